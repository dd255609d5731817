import JobQueue

/// A queue's last hour as inline SVG, drawn on the server: no charting library to load, so the
/// dashboard works offline, and the picture is exactly the numbers Redis returned.
struct ThroughputChart {
  var queue: String
  var points: [ThroughputPoint]
  var width = 240
  var height = 44

  var processed: Int { points.reduce(0) { $0 + $1.processed } }
  var failed: Int { points.reduce(0) { $0 + $1.failed } }
  /// The busiest minute, which sets the scale.
  var peak: Int { points.map { $0.processed + $0.failed }.max() ?? 0 }

  /// One stacked bar a minute: processed from the baseline, failed on top of it.
  func svg() -> String {
    let summary = "\(processed) processed, \(failed) failed in the last hour; busiest minute \(peak)"
    var out = """
      <svg class="chart" id="chart-\(idToken(queue))" data-processed="\(processed)" data-failed="\(failed)" \
      width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" role="img" \
      aria-label="\(html(summary))" xmlns="http://www.w3.org/2000/svg">
      <line class="axis" x1="0" y1="\(height - 1)" x2="\(width)" y2="\(height - 1)"/>
      """
    guard !points.isEmpty else { return out + "</svg>" }
    let slot = Double(width) / Double(points.count)
    let scale = Double(height - 2) / Double(max(1, peak))
    for (index, point) in points.enumerated() where point.processed + point.failed > 0 {
      let x = Double(index) * slot
      var top = Double(height - 1)
      out +=
        "<g><title>\(html(dashboardTime(point.minute))): \(point.processed) processed, \(point.failed) failed</title>"
      for (count, kind) in [(point.processed, "processed"), (point.failed, "failed")] where count > 0 {
        // A bar is never thinner than a pixel: one failed job among thousands processed stays visible.
        let h = max(1, Double(count) * scale)
        top -= h
        out += rect(x: x, y: max(0, top), width: slot, height: h, kind: kind)
      }
      out += "</g>"
    }
    return out + "</svg>"
  }

  private func rect(x: Double, y: Double, width: Double, height: Double, kind: String) -> String {
    "<rect class=\"\(kind)\" x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(max(1, width - 1)))\" height=\"\(fmt(height))\"/>"
  }

  private func fmt(_ value: Double) -> String {
    let tenths = (value * 10).rounded() / 10
    return tenths == tenths.rounded() ? String(Int(tenths)) : String(tenths)
  }
}
