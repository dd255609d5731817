import Foundation
import JobQueue

/// `/dashboard/busy`: every job running now, with the worker that holds it and how long it has
/// run, so "what is stuck?" has an answer at a glance.
enum BusyPage {
  /// Listed per queue; past it the page says how many more run.
  static let perQueue = 200

  static func render(_ running: [RunningJob], active: Int, now: Int64, flash: String? = nil) -> String {
    guard !running.isEmpty else {
      return DashboardLayout.page(
        title: "Busy", flash: flash, body: "<p class=\"empty\" id=\"no-busy\">No job is running.</p>")
    }
    var rows = ""
    for job in running.sorted(by: { ($0.startedAt ?? 0) < ($1.startedAt ?? 0) }) {
      let runtime = job.startedAt.map { seconds(now - $0) } ?? "–"
      let leaseLeft = job.leaseDeadline - now
      rows += """
        <tr data-busy-id="\(html(job.id))"\(leaseLeft < 0 ? " class=\"late\"" : "")>\
        <td><a href="\(html(JobPage.path(job.id)))">\(html(job.id))</a></td><td>\(html(job.queue))</td>\
        <td>\(html(job.type))</td><td>\(html(job.tenant ?? "–"))</td><td class="worker">\(html(job.worker))</td>\
        <td>\(html(job.startedAt.map(dashboardTime) ?? "–"))</td><td class="n runtime">\(runtime)</td>\
        <td class="n">\(leaseLeft < 0 ? "expired \(seconds(-leaseLeft)) ago" : "in \(seconds(leaseLeft))")</td>\
        <td class="n">\(job.attempt) of \(job.maxAttempts)</td><td>\(buttons(job))</td></tr>
        """
    }
    let more =
      active > running.count
      ? "<p class=\"hint\" id=\"busy-more\">\(active - running.count) more running are not listed.</p>" : ""
    let body = """
      <table id="busy" data-live><thead><tr><th>Job</th><th>Queue</th><th>Type</th><th>Tenant</th><th>Worker</th>\
      <th>Started</th><th>Running for</th><th>Lease</th><th>Attempt</th><th></th></tr></thead><tbody>
      \(rows)</tbody></table>
      \(more)
      <p class="hint">A lease past its deadline means its worker stopped extending it: the job runs again \
      on the next recovery sweep, counted as a crash.</p>
      """
    return DashboardLayout.page(title: "Busy", flash: flash, body: body)
  }

  /// Hand back and cancel, each naming this run's lease token so that a later run of the same job
  /// is never the one stopped.
  static func buttons(_ job: RunningJob) -> String {
    let fields =
      "\(DashboardForm.csrfField)<input type=\"hidden\" name=\"queue\" value=\"\(html(job.queue))\">"
      + "<input type=\"hidden\" name=\"id\" value=\"\(html(job.id))\">"
      + "<input type=\"hidden\" name=\"token\" value=\"\(html(job.token))\">"
    return """
      <form method="post" action="/dashboard/busy/handback" class="inline" \
      onsubmit="return confirm('Hand this job back? Its run stops and the job runs again, not charged an attempt.')">\
      \(fields)<button type="submit" class="hand-back">Hand back</button></form> \
      <form method="post" action="/dashboard/busy/cancel" class="inline" \
      onsubmit="return confirm('Cancel this job? Its run stops and it will not run again.')">\
      \(fields)<button type="submit" class="cancel">Cancel</button></form>
      """
  }

  static func seconds(_ ms: Int64) -> String {
    ms < 60_000 ? String(format: "%.1f s", Double(ms) / 1000) : "\(ms / 60_000) min \(ms % 60_000 / 1000) s"
  }
}
