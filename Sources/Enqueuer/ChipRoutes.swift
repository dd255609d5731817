import Foundation
import HTTPTypes
import Hummingbird
import JobCatalog
import Store
import Wire

/// `/v1/chips`: a tenant registers its WhatsApp numbers (WAHA sessions) and lists them with their
/// session status. Another tenant's chips are never listed; the WAHA API key is never shown.
struct ChipRoutes {
  let store: Store
  let limits: EnqueuerServer.Limits

  static let fields: Set<String> = ["name", "waha_url", "session", "waha_api_key"]

  func register(on group: RouterGroup<EnqueuerContext>) {
    group.post("chips") { request, context in try await create(request, context: context) }
    group.get("chips") { _, context in try await list(context: context) }
  }

  func create(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let body = try await RequestReader.body(request, limit: limits.maxBody, fields: Self.fields, noun: "a chip")
    let name = body.string("name", max: 100)
    let url = body.string("waha_url", max: 500) { url in
      guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(),
        scheme == "http" || scheme == "https", parts.host?.isEmpty == false, parts.user == nil, parts.query == nil
      else { return "must be the WAHA base address, http(s)://host:port, without credentials or query" }
      return nil
    }
    let session = body.string("session", max: 100) { session in
      session.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
        ? nil : "letters, digits, '_' and '-' only, as WAHA names sessions"
    }
    let key = body.string("waha_api_key", required: false, max: 500)
    try body.finish()
    guard let name, var url, let session else { throw Problem.invalid(body.problems) }
    // Stored with its scheme in lower case (`HTTP://` is `http://`), as the chips table requires.
    if var parts = URLComponents(string: url), let scheme = parts.scheme {
      parts.scheme = scheme.lowercased()
      url = parts.string ?? url
    }
    let chip: Chip
    do {
      chip = try await store.createChip(
        tenant: access, name: name, wahaURL: url.hasSuffix("/") ? String(url.dropLast()) : url, session: session,
        wahaAPIKey: key)
    } catch let error as ChipError {
      switch error {
      case .overPlan: throw Problem(.forbidden, "plan-limit", "The plan's chips are all in use", detail: "\(error)")
      case .nameTaken, .sessionTaken: throw Problem(.conflict, "chip-exists", "The chip exists", detail: "\(error)")
      }
    }
    var response = try JSONResponse.make(.created, ChipView(chip))
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
  }
}

struct ChipList: Encodable {
  var chips: [ChipView]
}
