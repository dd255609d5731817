import Foundation
import JobQueue

/// Any job by its id, in whatever state: its fields, a timeline, its payload (secrets masked) and
/// the actions its state allows. Operators arrive from the search box every page carries.
enum JobPage {
  static func path(_ id: String) -> String { "/dashboard/jobs/\(urlComponent(id))" }

  /// The search form in every page's navigation.
  static let searchForm = """
    <form method="get" action="/dashboard/jobs" class="inline" role="search">\
    <input type="search" name="id" id="job-search" placeholder="job id" size="16" maxlength="64" \
    aria-label="Find a job by id"> <button type="submit" id="job-find">Find</button></form>
    """

  static func show(_ job: JobInfo, flash: String?) -> String {
    func row(_ name: String, _ value: String, id: String) -> String {
      "<tr><th>\(name)</th><td id=\"\(id)\">\(html(value))</td></tr>"
    }
    let time = { (ms: Int64?) in ms.map(dashboardTime) ?? "–" }
    let body = """
      <section id="job" data-job-id="\(html(job.id))" data-job-state="\(html(job.state.rawValue))">
      <h2>Job <code id="job-id">\(html(job.id))</code></h2>
      <table id="job-fields">
      \(row("Queue", job.queue, id: "job-queue"))\(row("Type", job.type, id: "job-type"))\
      \(row("Tenant", job.tenant ?? "– (system work)", id: "job-tenant"))\
      \(row("State", job.state.rawValue, id: "job-state"))\
      \(row("Attempts", "\(job.attempts) of \(job.maxAttempts)", id: "job-attempt-count"))\
      \(row("Crashes", String(job.crashes), id: "job-crashes"))\
      \(row("Idempotency key", job.idempotencyKey ?? "–", id: "job-key"))\
      \(row("Enqueued", time(job.enqueuedAt), id: "job-enqueued"))\(row("Due", time(job.dueAt), id: "job-due"))\
      \(row("Started", time(job.startedAt), id: "job-started"))\
      \(row("Finished", time(job.finishedAt), id: "job-finished"))
      </table>
      \(actions(job))
      <h2>Timeline</h2>
      \(timeline(job))
      <h2>Payload</h2>
      <pre id="job-payload">\(html(PayloadMask.pretty(job.payload)))</pre>
      </section>
      """
    return DashboardLayout.page(title: "Job \(job.id)", flash: flash, body: body)
  }

  /// What happened to the job, oldest first: enqueued, each failed or crashed attempt with its
  /// error, the last start, and the end.
  static func timeline(_ job: JobInfo) -> String {
    var steps: [(at: Int64, what: String, detail: String)] = []
    if let at = job.enqueuedAt { steps.append((at, "enqueued", "on \(job.queue)")) }
    for record in job.history {
      steps.append((record.at, "attempt \(record.attempt) \(record.kind)", record.error))
    }
    if let at = job.startedAt { steps.append((at, "started", "attempt \(job.attempts)")) }
    if let at = job.finishedAt { steps.append((at, job.state.rawValue, "")) }
    if job.state == .scheduled, let at = job.dueAt { steps.append((at, "due", "waits until then")) }
    guard !steps.isEmpty else { return "<p class=\"empty\">Nothing is recorded yet.</p>" }
    var rows = ""
    for step in steps.sorted(by: { $0.at < $1.at }) {
      rows += """
        <tr><td>\(html(dashboardTime(step.at)))</td><td>\(html(step.what))</td>\
        <td><pre class="attempt-error">\(html(step.detail))</pre></td></tr>
        """
    }
    return "<table id=\"job-timeline\"><thead><tr><th>At</th><th>What</th><th>Detail</th></tr></thead>"
      + "<tbody>\(rows)</tbody></table>"
  }

  /// Dead jobs are retried or deleted; jobs not started yet are cancelled; the rest have none.
  static func actions(_ job: JobInfo) -> String {
    switch job.state {
    case .dead:
      return DeadLetterPages.actions(
        queue: job.queue, ids: [job.id], back: path(job.id), label: "",
        deleteBack: DeadLetterPages.deadList(queue: job.queue))
    case .scheduled, .ready:
      return """
        <form method="post" action="/dashboard/jobs/cancel" class="inline delete" \
        onsubmit="return confirm('Cancel this job? It will not run.')">\
        <input type="hidden" name="id" value="\(html(job.id))">\(DashboardForm.csrfField)\
        <button type="submit" class="delete" id="cancel-job">Cancel</button></form>
        """
    default:
      return "<p id=\"job-no-actions\">This job is \(html(job.state.rawValue)): there is nothing to do to it here.</p>"
    }
  }

  static func missing(_ id: String) -> String {
    DashboardLayout.page(
      title: "No such job",
      body: """
        <p class="error" id="job-missing">No job <code>\(html(id.prefix(64)))</code>: \
        job ids have 14 letters and digits, and a finished job is gone after its queue's retention.</p>
        """)
  }
}
