import Foundation
import JobQueue

/// `/dashboard/charts`: a queue's runs over the last hour (a bar a minute) or the last 24 hours (a
/// bar per 15 minutes), for every job type or one: throughput, failures, runtime p50 and p99, and
/// p99 wait from ready to started. Drawn as inline SVG on the server from the per-minute
/// aggregates workers keep in Redis (`Broker.runStats`).
enum ChartsPage {
  enum Range: String, CaseIterable {
    case hour = "1h"
    case day = "24h"

    var resolution: RunStatsResolution { self == .hour ? .minute : .quarterHour }
    var bars: Int { self == .hour ? 60 : 96 }
    var label: String { self == .hour ? "last hour, a bar a minute" : "last 24 hours, a bar per 15 minutes" }
  }

  static func render(
    queues: [String], queue: String?, type: String?, range: Range, series: RunStatsSeries?
  ) -> String {
    let queueOptions = queues.map {
      "<option value=\"\(html($0))\"\($0 == queue ? " selected" : "")>\(html($0))</option>"
    }.joined()
    let typeOptions =
      "<option value=\"\">every type</option>"
      + (series?.byType.map {
        "<option value=\"\(html($0.type))\"\($0.type == type ? " selected" : "")>\(html($0.type))</option>"
      }
      .joined() ?? "")
    let rangeOptions = Range.allCases.map {
      "<option value=\"\($0.rawValue)\"\($0 == range ? " selected" : "")>\($0.rawValue)</option>"
    }.joined()
    let form = """
      <form method="get" action="/dashboard/charts" class="filters" id="charts-filter">
      <label>Queue <select name="queue" id="chart-queue">\(queueOptions)</select></label>
      <label>Type <select name="type" id="chart-type">\(typeOptions)</select></label>
      <label>Range <select name="range" id="chart-range">\(rangeOptions)</select></label>
      <button type="submit">Show</button></form>
      """
    guard let queue, let series else {
      return DashboardLayout.page(title: "Charts", body: form + "<p class=\"empty\">No queue yet.</p>")
    }
    let points = series.points
    let what = "\(type ?? "every type") on \(queue), \(range.label)"
    let charts = """
      <section id="charts" data-live>
      <p class="hint">\(html(what))</p>
      <h2>Throughput</h2>\(chart("throughput", points, unit: "runs", series: [("processed", { Double($0.processed) }), ("failed", { Double($0.failed) })], stacked: true))
      <h2>Failures</h2>\(chart("failures", points, unit: "failed", series: [("failed", { Double($0.failed) })]))
      <h2>Runtime p50 and p99</h2>\(chart("runtime", points, unit: "ms", series: [("p99", { $0.runtimeP99Ms.map(Double.init) }), ("p50", { $0.runtimeP50Ms.map(Double.init) })]))
      <h2>Wait p99 (ready to started)</h2>\(chart("wait", points, unit: "ms", series: [("p99", { $0.waitP99Ms.map(Double.init) })]))
      <h2>Per job type</h2>\(typeTable(series.byType, queue: queue, range: range))
      </section>
      <p class="hint">Percentiles are read from half-octave histograms: a value is the upper edge of its \
      bucket, within 41% of the true one. Workers add their counts about once a second; a minute's \
      aggregates are kept 65 minutes, a quarter hour's 25 hours.</p>
      """
    return DashboardLayout.page(title: "Charts", body: form + charts)
  }

  static func typeTable(_ byType: [(type: String, totals: RunStatsPoint)], queue: String, range: Range) -> String {
    guard !byType.isEmpty else { return "<p class=\"empty\" id=\"charts-empty\">No run in this range.</p>" }
    let rows = byType.map { type, t in
      let link = "/dashboard/charts?queue=\(urlComponent(queue))&type=\(urlComponent(type))&range=\(range.rawValue)"
      return """
        <tr data-type="\(html(type))"><td><a href="\(html(link))">\(html(type))</a></td>\
        <td class="n processed">\(t.processed)</td><td class="n failed">\(t.failed)</td>\
        <td class="n p50">\(ms(t.runtimeP50Ms))</td><td class="n p99">\(ms(t.runtimeP99Ms))</td>\
        <td class="n wait">\(ms(t.waitP99Ms))</td></tr>
        """
    }.joined(separator: "\n")
    return """
      <table id="chart-types"><thead><tr><th>Type</th><th>Processed</th><th>Failed</th><th>Runtime p50</th>\
      <th>Runtime p99</th><th>Wait p99</th></tr></thead><tbody>
      \(rows)</tbody></table>
      """
  }

  static func ms(_ value: Int64?) -> String {
    guard let value else { return "–" }
    return value < 10_000 ? "\(value) ms" : String(format: "%.1f s", Double(value) / 1000)
  }

  /// Bars a time slot each. Stacked series pile up (throughput); others overlap, the first drawn
  /// behind (p99 behind p50), each named by its CSS class.
  static func chart(
    _ id: String, _ points: [RunStatsPoint], unit: String,
    series: [(name: String, value: (RunStatsPoint) -> Double?)], stacked: Bool = false, width: Int = 720,
    height: Int = 90
  ) -> String {
    let values = points.map { point in series.map { $0.value(point) ?? 0 } }
    let peak = values.map { stacked ? $0.reduce(0, +) : ($0.max() ?? 0) }.max() ?? 0
    let summary = series.map { s in
      "\(s.name) peak \(number(points.compactMap { s.value($0) }.max() ?? 0)) \(unit)"
    }.joined(separator: ", ")
    var out = """
      <svg class="chart" id="chart-\(id)" data-peak="\(number(peak))" width="\(width)" height="\(height)" \
      viewBox="0 0 \(width) \(height)" role="img" aria-label="\(html(summary))" xmlns="http://www.w3.org/2000/svg">
      <line class="axis" x1="0" y1="\(height - 1)" x2="\(width)" y2="\(height - 1)"/>
      """
    guard peak > 0 else { return out + "<text x=\"4\" y=\"14\">nothing yet</text></svg>" }
    let slot = Double(width) / Double(max(1, points.count))
    let scale = Double(height - 14) / peak
    for (index, point) in points.enumerated() where values[index].contains(where: { $0 > 0 }) {
      let x = Double(index) * slot
      let title = zip(series, values[index]).map { "\($0.name) \(number($1)) \(unit)" }.joined(separator: ", ")
      out += "<g><title>\(html(dashboardTime(point.start))): \(html(title))</title>"
      var base = Double(height - 1)
      for (s, value) in zip(series, values[index]) where value > 0 {
        let h = max(1, value * scale)
        let y = stacked ? base - h : Double(height - 1) - h
        if stacked { base -= h }
        out +=
          "<rect class=\"\(s.name)\" x=\"\(fmt(x))\" y=\"\(fmt(max(0, y)))\" width=\"\(fmt(max(1, slot - 1)))\" height=\"\(fmt(h))\"/>"
      }
      out += "</g>"
    }
    out += "<text x=\"4\" y=\"11\" class=\"peak\">\(html(number(peak))) \(html(unit))</text>"
    return out + "</svg>"
  }

  static func number(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
  }

  static func fmt(_ value: Double) -> String {
    let tenths = (value * 10).rounded() / 10
    return tenths == tenths.rounded() ? String(Int(tenths)) : String(tenths)
  }
}
