import Foundation
import HTTPTypes
import Hummingbird
import JobCatalog
import JobContracts
import JobQueue
import OutboundHTTP
import Store
import Wire

/// `/v1/chips`: a tenant registers its WhatsApp numbers (WAHA sessions) and lists them with their
/// session status. Another tenant's chips are never listed; the WAHA API key is never shown.
struct ChipRoutes {
  let store: Store
  let broker: Broker
  let catalog: JobCatalog
  let limits: EnqueuerServer.Limits

  static let fields: Set<String> = ["name", "waha_url", "session", "waha_api_key"]

  func register(on group: RouterGroup<EnqueuerContext>) {
    group.post("chips") { request, context in try await create(request, context: context) }
    group.get("chips") { _, context in try await list(context: context) }
    group.get("chips/{id}") { _, context in try await show(context: context) }
    group.get("chips/{id}/webhook") { _, context in try await webhook(context: context) }
    group.patch("chips/{id}") { request, context in try await rename(request, context: context) }
    group.delete("chips/{id}") { _, context in try await delete(context: context) }
    ChipConnectionRoutes(store: store, broker: broker, catalog: catalog, limits: limits).register(on: group)
  }

  static func problem(_ error: ChipError) -> Problem {
    switch error {
    case .overPlan: Problem(.forbidden, "plan-limit", "The plan's chips are all in use", detail: "\(error)")
    case .nameTaken, .sessionTaken: Problem(.conflict, "chip-exists", "The chip exists", detail: "\(error)")
    case .notFound: Problem.notFound("\(error)")
    case .inUse: Problem(.conflict, "chip-in-use", "The chip is in use", detail: "\(error)")
    case .containerFull: Problem(.forbidden, "container-full", "The WAHA container is full", detail: "\(error)")
    case .noContainerPort:
      Problem(.serviceUnavailable, "no-container-port", "No container can be created", detail: "\(error)")
    }
  }

  /// The chip id in the path; anything that cannot be one is a chip that does not exist.
  func chipID(_ context: EnqueuerContext) throws(Problem) -> Int64 {
    guard let id = context.parameters.get("id", as: Int64.self), id > 0 else {
      throw Problem.notFound("no chip with that id; list them with GET /v1/chips")
    }
    return id
  }

  func show(context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let id = try chipID(context)
    guard let chip = try await store.chip(tenantID: access.tenant.id, id: id) else {
      throw Self.problem(.notFound(id))
    }
    return try JSONResponse.make(.ok, ChipView(chip))
  }

  /// What the chip's WAHA session needs to send its events here: its own receiver and key.
  func webhook(context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let id = try chipID(context)
    guard let chip = try await store.chip(tenantID: access.tenant.id, id: id) else {
      throw Self.problem(.notFound(id))
    }
    let secret = limits.wahaWebhookSecret.flatMap { $0.isEmpty ? nil : $0 }
    return try JSONResponse.make(
      .ok,
      ChipWebhook(
        path: WAHAWebhookKey.path(chip: chip.id), session: chip.session,
        hmacKey: secret.map { WAHAWebhookKey.forChip(chip.id, secret: $0) },
        events: WAHAWebhookKey.events))
  }

  func rename(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let id = try chipID(context)
    let body = try await RequestReader.body(request, limit: limits.maxBody, fields: ["name"], noun: "a chip's new name")
    let name = body.string("name", max: 100)
    try body.finish()
    guard let name else { throw Problem.invalid(body.problems) }
    do {
      return try JSONResponse.make(
        .ok, ChipView(try await store.renameChip(tenantID: access.tenant.id, id: id, name: name)))
    } catch let error as ChipError {
      throw Self.problem(error)
    }
  }

  func delete(context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let id = try chipID(context)
    let released: ReleasedSession?
    do {
      released = try await store.deleteChip(tenantID: access.tenant.id, id: id)
    } catch let error as ChipError {
      throw Self.problem(error)
    }
    if let released {
      // The session is logged out and deleted in the container by a job, retried until WAHA answers.
      _ = try await broker.enqueue(
        try ChipReleaseJob.spec(
          .init(tenantId: released.tenantID.rawValue, session: released.session), catalog: catalog,
          key: "chip-release:\(released.session)", tenant: access.tenant.name))
    }
    return Response(status: .noContent)
  }

  func create(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let body = try await RequestReader.body(request, limit: limits.maxBody, fields: Self.fields, noun: "a chip")
    let name = body.string("name", max: 100)
    let url = body.string("waha_url", required: false, max: 500) { url in
      guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(),
        scheme == "http" || scheme == "https", parts.host?.isEmpty == false, parts.user == nil, parts.query == nil
      else { return "must be the WAHA base address, http(s)://host:port, without credentials or query" }
      // Workers send this chip's messages there, with headers the tenant chose.
      return limits.outbound.refusal(host: parts.host ?? "").map { "must not point at our own network: \($0)" }
    }
    let session = body.string("session", required: false, max: 100) { session in
      session.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
        ? nil : "letters, digits, '_' and '-' only, as WAHA names sessions"
    }
    let key = body.string("waha_api_key", required: false, max: 500)
    let ownWAHA = body.has("waha_url") || body.has("session") || body.has("waha_api_key")
    if ownWAHA {
      if !body.has("waha_url") { body.fail("waha_url", "missing: a chip on the tenant's own WAHA names its address") }
      if !body.has("session") { body.fail("session", "missing: a chip on the tenant's own WAHA names its session") }
    }
    try body.finish()
    guard let name else { throw Problem.invalid(body.problems) }
    guard ownWAHA else { return try await createManaged(access, name: name) }
    guard var url, let session else { throw Problem.invalid(body.problems) }
    // Stored with its scheme in lower case, as the chips table requires.
    url = OutboundURLRule.lowercasingScheme(url)
    let chip: Chip
    do {
      chip = try await store.createChip(
        tenant: access, name: name, wahaURL: url.hasSuffix("/") ? String(url.dropLast()) : url, session: session,
        wahaAPIKey: key)
    } catch let error as ChipError {
      throw Self.problem(error)
    }
    var response = try JSONResponse.make(.created, ChipView(chip))
    response.headers[.location] = "/v1/chips/\(chip.id)"
    return response
  }

  /// A chip whago connects itself: registered at once (202) in the tenant's container, then
  /// provisioned by `chip.provision` (container, proxy, session), which `GET /v1/chips/{id}` follows.
  func createManaged(_ access: TenantAccess, name: String) async throws -> Response {
    let chip: Chip
    do {
      chip = try await store.createManagedChip(tenant: access, name: name, settings: limits.containers)
    } catch let error as ChipError {
      throw Self.problem(error)
    }
    _ = try await broker.enqueue(
      try ChipProvisionJob.spec(
        .init(chipId: chip.id), catalog: catalog, key: "chip-provision:\(chip.id)", keyHeldWhileAlive: true,
        tenant: access.tenant.name))
    var response = try JSONResponse.make(.accepted, ChipView(chip))
    response.headers[.location] = "/v1/chips/\(chip.id)"
    return response
  }

  func list(context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let chips = try await store.chips(tenantID: access.tenant.id)
    return try JSONResponse.make(.ok, ChipList(chips: chips.map(ChipView.init)))
  }
}

/// A chip as its tenant sees it.
struct ChipView: Encodable {
  var id: Int64
  var name: String
  var wahaUrl: String
  var session: String
  var hasWahaApiKey: Bool
  var status: ChipStatus
  var statusChangedAt: String
  @ExplicitNull var stoppedWorkingAt: String?
  var createdAt: String
  /// Over the plan's chip limit since then: it sends nothing until a plan allows it again.
  @ExplicitNull var readOnlySince: String?
  /// whago runs its session in the tenant's container.
  var managed: Bool
  /// container, proxy, session, done; null for a chip on the tenant's own WAHA.
  @ExplicitNull var provisioningStep: String?
  @ExplicitNull var lastError: String?

  init(_ chip: Chip) {
    id = chip.id
    name = chip.name
    wahaUrl = chip.wahaUrl
    session = chip.session
    hasWahaApiKey = chip.hasWahaApiKey
    status = chip.status
    statusChangedAt = JSONResponse.time(chip.statusChangedAt)
    stoppedWorkingAt = chip.stoppedWorkingAt.map { JSONResponse.time($0) }
    createdAt = JSONResponse.time(chip.createdAt)
    readOnlySince = chip.readOnlySince.map { JSONResponse.time($0) }
    managed = chip.managed
    provisioningStep = chip.provisioningStep
    lastError = chip.lastError
  }
}

/// A chip's webhook settings, in the shape of a WAHA session's `config.webhooks[]` entry.
struct ChipWebhook: Encodable {
  /// Appended to this server's public address.
  var path: String
  var session: String
  /// Null while the server has no WHAGO_WAHA_WEBHOOK_SECRET (it then accepts no webhooks).
  @ExplicitNull var hmacKey: String?
  var events: [String]
}

struct ChipList: Encodable {
  var chips: [ChipView]
}
