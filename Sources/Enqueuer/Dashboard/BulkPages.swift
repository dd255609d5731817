import Foundation
import JobQueue
import Store

/// The confirmation a bulk action asks for (how many jobs, where, what happens to them), and the
/// audit trail where each action, bulk or single, is written with the admin key that did it.
enum BulkPages {
  static func confirm(_ action: JobSetAction, matches: [(queue: String, ids: [String])]) -> String {
    let total = matches.reduce(0) { $0 + $1.ids.count }
    let back = "\(action.set.path)?\(action.filterQuery)"
    guard total > 0 else {
      return DashboardLayout.page(
        title: "\(action.label): nothing to do",
        body: """
          <p class="empty" id="bulk-none">No \(html(action.target)) match now.</p><p><a href="\(html(back))">Back</a></p>
          """)
    }
    let perQueue = matches.map { "<li>\(html($0.queue)): <span class=\"n\">\($0.ids.count)</span></li>" }.joined()
    let hidden = action.fields.filter { $0.0 != "spread_ms" }.map {
      "<input type=\"hidden\" name=\"\(html($0.0))\" value=\"\(html($0.1))\">"
    }.joined()
    let spread =
      action.set == .dead && action.verb == .run
      ? """
      <p><label>Spread: one job every <input name="spread_ms" id="bulk-spread" type="number" min="0" \
      max="\(JobSetAction.longestSpread.milliseconds)" value="\(action.spread.milliseconds)"> ms</label> \
      (0 runs them all at once)</p>
      """ : ""
    let jobs = total == 1 ? "1 job" : "\(total) jobs"
    let body = """
      <section id="bulk-confirm"\(action.destructive ? " class=\"error\"" : "")>
      <p><strong id="bulk-count">\(total)</strong> \(html(action.target)) match now:</p><ul>\(perQueue)</ul>
      <p>\(html(action.consequence)) Jobs that leave the set before their turn are skipped, so running this again \
      is safe.</p>
      <form method="post" action="/dashboard/bulk">\(DashboardForm.csrfField)\(hidden)\(spread)
      <button type="submit" id="bulk-go">\(html(action.label)) \(jobs)</button> <a href="\(html(back))">Back</a>
      </form></section>
      """
    return DashboardLayout.page(title: "\(action.label) \(jobs)?", body: body)
  }

  static func trail(_ actions: [DashboardAction]) -> String {
    guard !actions.isEmpty else {
      return DashboardLayout.page(
        title: "Audit", body: "<p class=\"empty\" id=\"audit-empty\">No dashboard action yet.</p>")
    }
    let rows = actions.map { action in
      """
      <tr data-audit-id="\(action.id)"><td><a href="/dashboard/audit/\(action.id)">#\(action.id)</a></td>\
      <td>\(html(dashboardTime(action.startedAt)))</td><td class="key">\(html(action.keyLabel))</td>\
      <td class="action">\(html(action.action))</td><td>\(html(action.target))</td>\
      <td class="n">\(action.done) of \(action.matched)</td><td class="state">\(html(state(action)))</td></tr>
      """
    }.joined(separator: "\n")
    let body = """
      <table id="audit" data-live><thead><tr><th></th><th>Started</th><th>Admin key</th><th>Action</th><th>Jobs</th>\
      <th>Done</th><th>State</th></tr></thead><tbody>
      \(rows)</tbody></table>
      <p class="hint">Every state-changing dashboard action, newest first, kept for a year.</p>
      """
    return DashboardLayout.page(title: "Audit", body: body)
  }

  static func show(_ action: DashboardAction) -> String {
    let error = action.error.map { "<p class=\"error\" id=\"audit-error\">\(html($0))</p>" } ?? ""
    let body = """
      <section id="audit-entry" data-live>
      <p><strong class="action">\(html(action.action))</strong> on \(html(action.target))</p>
      <p>By <span class="key">\(html(action.keyLabel))</span>, started \(html(dashboardTime(action.startedAt)))\
      \(action.finishedAt.map { ", finished \(html(dashboardTime($0)))" } ?? "").</p>
      <p><progress id="audit-progress" max="\(max(1, action.matched))" value="\(action.done)"></progress> \
      <span id="audit-done">\(action.done)</span> of <span id="audit-matched">\(action.matched)</span> \
      · <span id="audit-state">\(html(state(action)))</span></p>
      \(error)</section>
      <p><a href="/dashboard/audit">Every action</a></p>
      """
    return DashboardLayout.page(title: "Action #\(action.id)", body: body)
  }

  /// `running` for as long as progress keeps coming; a run that went quiet for a minute died with
  /// its server, and can simply be started again.
  static func state(_ action: DashboardAction) -> String {
    if action.state == .running && action.quietFor > 60 { return "interrupted (run it again to finish)" }
    return action.state.rawValue
  }
}

extension JobSetAction {
  /// The filter alone, for the list page's address.
  var filterQuery: String {
    fields.filter { ["queue", "type", "tenant", "error"].contains($0.0) }
      .map { "\(urlComponent($0.0))=\(urlComponent($0.1))" }.joined(separator: "&")
  }
}
