import Foundation
import Hummingbird
import JobCatalog
import JobQueue
import Logging
import Store

/// The dashboard's waiting-job pages and every action beyond dead-letter rows: run-now and cancel
/// of waiting jobs, bulk actions over a filter, hand-back and cancel of a running job, pause and
/// resume of a schedule. Each action is written to the audit trail with the admin key that asked.
struct DashboardActionRoutes {
  let broker: Broker
  let store: Store
  let catalog: JobCatalog
  let logger: Logger

  func register(on admin: RouterGroup<EnqueuerContext>) {
    admin.get("scheduled") { request, _ in try await waiting(request, set: .scheduled) }
    admin.get("retries") { request, _ in try await waiting(request, set: .retries) }
    admin.post("waiting/run") { request, _ in try await waitingAct(request, verb: .run) }
    admin.post("waiting/cancel") { request, _ in try await waitingAct(request, verb: .remove) }
    admin.get("bulk") { request, _ in try await confirmBulk(request) }
    admin.post("bulk") { request, _ in try await startBulk(request) }
    admin.get("audit") { _, _ in DashboardResponse.page(BulkPages.trail(try await store.dashboardActions())) }
    admin.get("audit/:id") { _, context in
      guard let id = context.parameters.get("id").flatMap({ Int64($0) }),
        let action = try await store.dashboardAction(id: id)
      else {
        return DashboardResponse.page(
          DashboardLayout.page(title: "Audit", body: "<p class=\"error\" id=\"audit-missing\">No such action.</p>"),
          status: .notFound)
      }
      return DashboardResponse.page(BulkPages.show(action))
    }
    admin.post("busy/handback") { request, _ in try await busyAct(request, cancel: false) }
    admin.post("busy/cancel") { request, _ in try await busyAct(request, cancel: true) }
    admin.post("schedules/pause") { request, _ in try await scheduleAct(request, pause: true) }
    admin.post("schedules/resume") { request, _ in try await scheduleAct(request, pause: false) }
  }

  /// A posted form, its CSRF token checked.
  func form(_ request: Request) async throws -> FormFields {
    let fields = FormFields(String(buffer: try await request.body.collect(upTo: 64 << 10)))
    try DashboardForm.check(fields)
    return fields
  }

  /// The admin key behind this request, as the trail names it.
  func who() async throws -> String {
    "key " + (try await store.adminKeyLabel(id: DashboardForm.keyID))
  }

  /// Writes a single (or small, listed) action to the trail, runs it, and records how many jobs it changed.
  func audited(_ action: String, target: String, matched: Int = 1, _ body: () async throws -> Int) async throws -> Int {
    let entry = try await store.beginDashboardAction(
      keyID: DashboardForm.keyID, action: action, target: target, matched: matched)
    do {
      let changed = try await body()
      try await store.finishDashboardAction(id: entry, done: changed)
      return changed
    } catch {
      try? await store.finishDashboardAction(id: entry, done: 0, error: "\(error)")
      throw error
    }
  }

  func waiting(_ request: Request, set: JobSetAction.JobSet) async throws -> Response {
    let filter = DeadLetterPages.Filter(FormFields(request.uri.query))
    let kind = set.waiting ?? .scheduled
    let queues = try await broker.stats().filter { $0.scheduled > 0 || $0.queue == filter.queue }
    var jobs: [WaitingJob] = []
    for queue in filter.queue.map({ [$0] }) ?? queues.map(\.queue) {
      jobs += try await broker.waitingJobs(queue: queue, kind: kind, filter: filter.broker, limit: WaitingPage.limit)
    }
    jobs = Array(jobs.sorted { $0.dueAt < $1.dueAt }.prefix(WaitingPage.limit))
    return DashboardResponse.page(
      WaitingPage.render(
        set, filter: filter, queues: queues, jobs: jobs, now: try await broker.redisTime(),
        back: DashboardRoutes.here(request), flash: DashboardRoutes.flash(request)))
  }

  func waitingAct(_ request: Request, verb: JobSetAction.Verb) async throws -> Response {
    let fields = try await form(request)
    let set = fields["set"].flatMap(JobSetAction.JobSet.init(rawValue:)) ?? .scheduled
    let back = DashboardResponse.safeBack(fields["back"], fallback: set.path)
    var count = 0
    if let queue = fields["queue"], let id = fields["id"], JobID.isValid(id), set != .dead {
      let action = JobSetAction(set: set, verb: verb, queue: queue, filter: JobFilter())
      count = try await audited(action.name, target: "job \(id) on queue \(queue)") {
        try await action.apply(broker, queue: queue, ids: [id], before: 0)
      }
    }
    return DashboardResponse.redirect(to: DashboardRoutes.appending(verb == .run ? "ran" : "dropped", count, to: back))
  }

  /// Counts what the action would touch and asks before doing it.
  func confirmBulk(_ request: Request) async throws -> Response {
    guard let action = JobSetAction(FormFields(request.uri.query)) else {
      return DashboardResponse.page(
        DashboardLayout.page(title: "Bulk action", body: "<p class=\"error\">Unknown set or action.</p>"),
        status: .badRequest)
    }
    return DashboardResponse.page(BulkPages.confirm(action, matches: try await action.matching(broker)))
  }

  /// Starts a confirmed bulk action in the background and shows its progress page.
  func startBulk(_ request: Request) async throws -> Response {
    guard let action = JobSetAction(try await form(request)) else {
      return DashboardResponse.page(
        DashboardLayout.page(title: "Bulk action", body: "<p class=\"error\">Unknown set or action.</p>"),
        status: .badRequest)
    }
    let matches = try await action.matching(broker)
    let entry = try await store.beginDashboardAction(
      keyID: DashboardForm.keyID, action: action.name, target: action.target,
      matched: matches.reduce(0) { $0 + $1.ids.count })
    let (broker, store, logger) = (broker, store, logger)
    Task { await action.run(matches, audit: entry, broker: broker, store: store, logger: logger) }
    return DashboardResponse.redirect(to: "/dashboard/audit/\(entry)")
  }

  /// Hands a running job back to its queue, or cancels it. Either way its current run (named by
  /// its lease token, so a later run is never touched) stops at its next lease extension.
  func busyAct(_ request: Request, cancel: Bool) async throws -> Response {
    let fields = try await form(request)
    var count = 0
    if let queue = fields["queue"], let id = fields["id"], JobID.isValid(id), let token = fields["token"] {
      count = try await audited(cancel ? "busy.cancel" : "busy.hand-back", target: "job \(id) on queue \(queue)") {
        if cancel {
          return try await broker.cancelRunning(queue: queue, id: id, token: token, by: try await who()) ? 1 : 0
        }
        return try await broker.handBack(queue: queue, [(id, token)])
      }
    }
    return DashboardResponse.redirect(
      to: DashboardRoutes.appending(cancel ? "stopped" : "handedBack", count, to: "/dashboard/busy"))
  }

  func scheduleAct(_ request: Request, pause: Bool) async throws -> Response {
    let fields = try await form(request)
    var count = 0
    if let name = fields["name"], let schedule = catalog.schedules.first(where: { $0.name == name }) {
      count = try await audited(pause ? "schedule.pause" : "schedule.resume", target: "schedule \(name)") {
        if pause {
          try await broker.pauseCron(name: name, queue: schedule.queue, by: try await who())
        } else {
          try await broker.resumeCron(name: name, queue: schedule.queue)
        }
        return 1
      }
    }
    return DashboardResponse.redirect(
      to: DashboardRoutes.appending(pause ? "paused" : "resumed", count, to: "/dashboard/schedules"))
  }
}
