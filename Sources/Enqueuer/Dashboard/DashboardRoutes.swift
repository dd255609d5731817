import BillingStore
import CampaignStore
import Docker
import Foundation
import HTTPTypes
import Hummingbird
import JobCatalog
import JobQueue
import Logging
import NIOCore
import Store
import Wire

/// `/dashboard`: what the people on call look at, and where they retry or delete dead jobs.
/// Everything but the login form needs an admin key.
struct DashboardRoutes {
  let broker: Broker
  let store: Store
  let catalog: JobCatalog
  let gate: AdminGate
  let logger: Logger
  /// Opens and seals proxy passwords; nil without WHAGO_SECRET_KEY (proxies cannot be added then).
  let secretBox: SecretBox?
  /// The containers' Docker engine; nil without WHAGO_DOCKER_HOST (the Containers page only reads).
  let docker: DockerClient?

  /// Dead letters listed on one page; a filter narrows the rest.
  static let listLimit = 100
  /// Ids one retry or delete form may carry.
  static let maxIDs = 1000

  init(
    broker: Broker, store: Store, catalog: JobCatalog, authCache: Duration, sessions: DashboardSessionLifetime,
    throttle: LoginThrottle, secretBox: SecretBox? = nil, docker: DockerClient? = nil, logger: Logger
  ) {
    self.logger = logger
    self.secretBox = secretBox
    self.docker = docker
    self.broker = broker
    self.store = store
    self.catalog = catalog
    gate = AdminGate(
      store: store, principals: .found(lifetime: authCache), lifetime: sessions, throttle: throttle)
  }

  func register(on router: Router<EnqueuerContext>) {
    let open = router.group("dashboard")
    open.get("login") { request, _ in
      DashboardResponse.page(
        LoginPage.render(notice: FormFields(request.uri.query)["out"] != nil ? "Logged out." : nil))
    }
    open.post("login") { request, context in try await login(request, context: context) }

    let admin = router.group("dashboard").add(middleware: DashboardAuth(gate: gate))
    admin.get { request, _ in
      let overview = try await DashboardOverview.load(broker: broker, store: store)
      return DashboardResponse.page(OverviewPage(overview: overview).render(flash: Self.flash(request)))
    }
    admin.get("api/overview") { _, _ in
      let overview = try await DashboardOverview.load(broker: broker, store: store)
      return Response(
        status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
        body: .init(byteBuffer: ByteBuffer(bytes: try WireJSON.encoder.encode(overview))))
    }
    admin.get("events") { request, _ in try await events(request) }
    registerProxies(on: admin)
    registerContainerPages(on: admin)
    admin.get("billing") { request, _ in try await billing(request) }
    admin.get("dead") { request, _ in try await deadList(request) }
    admin.get("dead/:queue/:id") { request, context in try await deadJob(request, context: context) }
    admin.post("dead/retry") { request, _ in try await act(request, retry: true) }
    admin.post("dead/delete") { request, _ in try await act(request, retry: false) }
    admin.get("schedules") { request, _ in try await schedules(request) }
    admin.get("busy") { request, _ in try await busy(request) }
    admin.get("jobs") { request, _ in try await findJob(request) }
    admin.get("jobs/:id") { request, context in try await job(request, context: context) }
    admin.post("jobs/cancel") { request, _ in try await cancel(request) }
    admin.post("logout") { request, context in try await logout(request, context: context) }
    actions.register(on: admin)
    registerTenantPages(on: admin)
  }

  var actions: DashboardActionRoutes {
    DashboardActionRoutes(broker: broker, store: store, catalog: catalog, logger: logger)
  }

  /// Trades an admin key for a session. Failures count against the address and the key prefix
  /// tried; past `LoginThrottle`'s limits, logins wait (even with the right key) without the key
  /// being checked at all.
  func login(_ request: Request, context: EnqueuerContext) async throws -> Response {
    if AdminGate.crossSite(request) {
      return DashboardResponse.page(
        LoginPage.render(error: "Log in from this dashboard's own page."), status: .forbidden)
    }
    let fields = FormFields(String(buffer: try await request.body.collect(upTo: 16 << 10)))
    guard let key = fields["key"] else {
      return DashboardResponse.page(LoginPage.render(error: "Type the admin key."), status: .badRequest)
    }
    let address = context.remoteIP ?? "unknown"
    if let wait = try await store.loginWait(address: address, key: key, throttle: gate.throttle) {
      let seconds = wait.components.seconds
      var response = DashboardResponse.page(
        LoginPage.render(
          error: "Too many failed logins from this address or for this key: try again in \(seconds) s."),
        status: .tooManyRequests)
      response.headers[.retryAfter] = "\(seconds)"
      return response
    }
    guard let keyID = try await gate.adminKeyID(key) else {
      try await store.recordFailedLogin(address: address, key: key, throttle: gate.throttle)
      return DashboardResponse.page(
        LoginPage.render(error: "That key does not open the dashboard: it is unknown, revoked, or not an admin key."),
        status: .forbidden)
    }
    let session = try await store.openDashboardSession(keyID: keyID)
    return DashboardResponse.redirect(
      to: "/dashboard", setCookie: AdminGate.sessionCookie(session.id, request: request, context: context))
  }

  /// Ends the session on the server, not only in the browser: the old cookie opens nothing after.
  func logout(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let fields = FormFields(String(buffer: try await request.body.collect(upTo: 16 << 10)))
    try DashboardForm.check(fields)
    if let session = DashboardForm.session { try await store.closeDashboardSession(id: session.id) }
    return DashboardResponse.redirect(
      to: "/dashboard/login?out=1", setCookie: AdminGate.clearedCookie(request: request, context: context))
  }

  func events(_ request: Request) async throws -> Response {
    let filter = EventsPage.Filter(FormFields(request.uri.query))
    let events = try await store.recentEvents(
      tenant: filter.tenant, types: filter.type.map { [$0] } ?? [], limit: EventsPage.limit)
    let endpoints = try await store.allWebhookEndpoints()
    // Dead deliveries, on whichever queue the catalog puts them ("webhooks" in ours).
    var dead = 0
    for queue in try await broker.stats() where queue.dead > 0 {
      dead += try await broker.deadLetters(
        queue: queue.queue, filter: JobFilter(type: "webhook.deliver"), limit: Self.maxIDs
      ).count
    }
    return DashboardResponse.page(
      EventsPage.render(filter: filter, events: events, endpoints: endpoints, deadDeliveries: dead))
  }

  func billing(_ request: Request) async throws -> Response {
    guard let name = FormFields(request.uri.query)["tenant"], !name.isEmpty else {
      return DashboardResponse.page(
        BillingPage.overview(
          trouble: try await store.subscriptionsInTrouble(), purchases: try await store.recentCreditPurchases()))
    }
    guard let access = try await store.tenantAccess(named: name) else {
      return DashboardResponse.page(BillingPage.missing(name), status: .notFound)
    }
    let subscription = try? await store.subscription(tenant: name)
    return DashboardResponse.page(
      BillingPage.tenant(
        .init(
          name: name, subscription: subscription, balance: try await store.creditBalance(tenantID: access.tenant.id),
          purchases: try await store.creditPurchases(tenantID: access.tenant.id))))
  }

  func deadList(_ request: Request) async throws -> Response {
    let fields = FormFields(request.uri.query)
    let filter = DeadLetterPages.Filter(fields)
    let queues = try await broker.stats().filter { $0.dead > 0 || $0.queue == filter.queue }
    var letters: [DeadLetter] = []
    // One queue that cannot be read (a damaged record) must not hide every other queue's dead letters.
    var unreadable: [(queue: String, error: String)] = []
    for queue in filter.queue.map({ [$0] }) ?? queues.map(\.queue) {
      do {
        letters += try await broker.deadLetters(queue: queue, filter: filter.broker, limit: Self.listLimit)
      } catch {
        unreadable.append((queue, "\(error)"))
      }
    }
    letters = Array(letters.sorted { $0.diedAt > $1.diedAt }.prefix(Self.listLimit))
    return DashboardResponse.page(
      DeadLetterPages.list(
        filter: filter, queues: queues, letters: letters, unreadable: unreadable, limit: Self.listLimit,
        back: Self.here(request), flash: Self.flash(request)))
  }

  func deadJob(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let queue = context.parameters.get("queue").flatMap { $0.removingPercentEncoding } ?? ""
    let id = context.parameters.get("id").flatMap { $0.removingPercentEncoding } ?? ""
    let missing = DashboardResponse.page(DeadLetterPages.missing(queue: queue, id: id), status: .notFound)
    guard JobID.isValid(id) else { return missing }
    let job: JobInfo
    do {
      job = try await broker.job(id: id)
    } catch QueueError.jobNotFound {
      return missing
    } catch {
      return DashboardResponse.page(
        DeadLetterPages.missing(queue: queue, id: id, reason: "it could not be read: \(error)"),
        status: .internalServerError)
    }
    guard job.queue == queue else { return missing }
    return DashboardResponse.page(
      DeadLetterPages.show(job, diedAt: job.state == .dead ? job.finishedAt : nil, flash: Self.flash(request)))
  }

  func busy(_ request: Request) async throws -> Response {
    var running: [RunningJob] = []
    var active = 0
    for queue in try await broker.stats() where queue.active > 0 {
      active += queue.active
      running += try await broker.runningJobs(queue: queue.queue, limit: BusyPage.perQueue)
    }
    return DashboardResponse.page(
      BusyPage.render(running, active: active, now: try await broker.redisTime(), flash: Self.flash(request)))
  }

  func schedules(_ request: Request) async throws -> Response {
    var rows: [SchedulesPage.Row] = []
    for schedule in catalog.schedules {
      let state = try await broker.cronState(name: schedule.name, queue: schedule.queue)
      var last: JobInfo?
      if let id = state.lastJob, JobID.isValid(id) { last = try? await broker.job(id: id) }
      rows.append(.init(schedule: schedule, state: state, lastJob: last))
    }
    return DashboardResponse.page(
      SchedulesPage.render(
        rows, now: try await broker.redisTime(), source: catalog.source, flash: Self.flash(request)))
  }

  /// The search box: straight to the job's page when it exists.
  func findJob(_ request: Request) async throws -> Response {
    let id = (FormFields(request.uri.query)["id"] ?? "").trimmingCharacters(in: .whitespaces)
    guard JobID.isValid(id), (try? await broker.job(id: id)) != nil else {
      return DashboardResponse.page(JobPage.missing(id), status: .notFound)
    }
    return DashboardResponse.redirect(to: JobPage.path(id))
  }

  func job(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let id = context.parameters.get("id").flatMap { $0.removingPercentEncoding } ?? ""
    guard JobID.isValid(id) else { return DashboardResponse.page(JobPage.missing(id), status: .notFound) }
    do {
      return DashboardResponse.page(JobPage.show(try await broker.job(id: id), flash: Self.flash(request)))
    } catch QueueError.jobNotFound {
      return DashboardResponse.page(JobPage.missing(id), status: .notFound)
    }
  }

  /// Cancels a job that has not started, then shows it; one that started meanwhile is left alone.
  func cancel(_ request: Request) async throws -> Response {
    let fields = FormFields(String(buffer: try await request.body.collect(upTo: 16 << 10)))
    try DashboardForm.check(fields)
    let id = fields["id"] ?? ""
    guard JobID.isValid(id) else { return DashboardResponse.page(JobPage.missing(id), status: .notFound) }
    let count = try await actions.audited("job.cancel", target: "job \(id)") {
      do {
        try await broker.cancel(id: id)
        return 1
      } catch QueueError.notCancellable, QueueError.jobNotFound {
        return 0
      }
    }
    return DashboardResponse.redirect(to: JobPage.path(id) + "?cancelled=\(count)")
  }

  /// Retries or deletes the posted ids of one queue, then goes back where the form came from.
  func act(_ request: Request, retry: Bool) async throws -> Response {
    let fields = FormFields(String(buffer: try await request.body.collect(upTo: 1 << 20)))
    try DashboardForm.check(fields)
    let back = DashboardResponse.safeBack(fields["back"])
    let ids = Array(fields.all("id").filter(JobID.isValid).prefix(Self.maxIDs))
    var count = 0
    if let queue = fields["queue"], !ids.isEmpty {
      let target = ids.count == 1 ? "job \(ids[0]) on queue \(queue)" : "\(ids.count) dead letters on queue \(queue)"
      count = try await actions.audited(retry ? "dead.retry" : "dead.delete", target: target, matched: ids.count) {
        retry
          ? try await broker.retryDead(queue: queue, ids: ids) : try await broker.deleteDead(queue: queue, ids: ids)
      }
    }
    let separator = back.contains("?") ? "&" : "?"
    return DashboardResponse.redirect(to: "\(back)\(separator)\(retry ? "retried" : "deleted")=\(count)")
  }

  /// The one-time message a form's redirect asks for. Only a count travels in the address; the
  /// words are the server's, so a crafted link cannot put its own text on the page.
  static func flash(_ request: Request) -> String? {
    let fields = FormFields(request.uri.query)
    if let n = fields["cancelled"].flatMap({ Int($0) }) {
      return n == 0 ? "Not cancelled: it had already started, finished or gone" : "Cancelled: it will not run"
    }
    for verb in ["retried", "deleted"] {
      guard let n = fields[verb].flatMap({ Int($0) }) else { continue }
      let jobs = n == 1 ? "1 job" : "\(n) jobs"
      return n == 0 ? "\(verb) 0 jobs: none of them was still dead" : "\(verb) \(jobs)"
    }
    for (key, done, none) in Self.flashes {
      guard let n = fields[key].flatMap({ Int($0) }) else { continue }
      return n == 0 ? none : done
    }
    return nil
  }

  /// The other one-time messages: the count's name, the words when it is 1, and when it is 0.
  static let flashes: [(String, String, String)] = [
    ("ran", "Made ready: it runs as soon as a worker is free", "Nothing ran: the job was no longer waiting"),
    ("dropped", "Cancelled: it will not run", "Not cancelled: the job was no longer waiting"),
    ("handedBack", "Handed back: its run stops and the job runs again", "Not handed back: that run had already ended"),
    ("stopped", "Cancelled: its run stops and it will not run again", "Not cancelled: that run had already ended"),
    ("paused", "Paused: its slots pass with no job until it is resumed", "No such schedule"),
    ("resumed", "Resumed: it fires from its next slot", "No such schedule"),
  ]

  /// `path` with a flash count added to its query.
  static func appending(_ key: String, _ count: Int, to path: String) -> String {
    "\(path)\(path.contains("?") ? "&" : "?")\(key)=\(count)"
  }

  /// This page's address without its flash, for forms to come back to.
  static func here(_ request: Request) -> String {
    let query = FormFields(request.uri.query).encoded(
      excluding: Set(["retried", "deleted", "cancelled"] + flashes.map(\.0)))
    return request.uri.path + (query.isEmpty ? "" : "?" + query)
  }
}
