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
    let value = try JSONValue.body(try await JobRoutes.body(request, limit: limits.maxBody).readableBytesView)
    guard case .object(let body) = value else {
      throw Problem.invalid([.init(pointer: "", detail: "the body is a JSON object, got \(value.kind)")])
    }
    var errors: [Problem.FieldError] = []
    for name in body.keys.sorted() where !Self.fields.contains(name) {
      errors.append(
        .init(
          pointer: "/\(JSONPointer.escape(name))",
          detail: "unknown field; a chip has \(Self.fields.sorted().joined(separator: ", "))"))
    }
    func text(_ field: String, required: Bool, max: Int, check: (String) -> String? = { _ in nil }) -> String? {
      switch body[field] {
      case nil:
        if required { errors.append(.init(pointer: "/\(field)", detail: "missing")) }
        return nil
      case .string(let s)?:
        // Counted as PostgreSQL counts (code points); control characters (NUL among them) refused.
        if s.isEmpty || s.unicodeScalars.count > max {
          errors.append(.init(pointer: "/\(field)", detail: "must have 1 to \(max) characters"))
          return nil
        }
        if s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
          errors.append(.init(pointer: "/\(field)", detail: "must not contain control characters"))
          return nil
        }
        if let problem = check(s) {
          errors.append(.init(pointer: "/\(field)", detail: problem))
          return nil
        }
        return s
      case let other?:
        errors.append(.init(pointer: "/\(field)", detail: "must be a string, got \(other.kind)"))
        return nil
      }
    }
    let name = text("name", required: true, max: 100)
    let url = text("waha_url", required: true, max: 500) { url in
      guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(),
        scheme == "http" || scheme == "https", parts.host?.isEmpty == false, parts.user == nil, parts.query == nil
      else { return "must be the WAHA base address, http(s)://host:port, without credentials or query" }
      return nil
    }
    let session = text("session", required: true, max: 100) { session in
      session.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
        ? nil : "letters, digits, '_' and '-' only, as WAHA names sessions"
    }
    let key = text("waha_api_key", required: false, max: 500)
    guard errors.isEmpty, let name, var url, let session else { throw Problem.invalid(errors) }
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
    var response = try JobRoutes.json(.created, ChipView(chip))
    response.headers[.location] = "/v1/chips/\(chip.id)"
    return response
  }

  func list(context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let chips = try await store.chips(tenantID: access.tenant.id)
    return try JobRoutes.json(.ok, ChipList(chips: chips.map(ChipView.init)))
  }
}

/// A chip as its tenant sees it.
struct ChipView: Encodable {
  var id: Int64
  var name: String
  var waha_url: String
  var session: String
  var has_waha_api_key: Bool
  var status: String
  var status_changed_at: String
  var stopped_working_at: String?
  var created_at: String

  init(_ chip: Chip) {
    id = chip.id
    name = chip.name
    waha_url = chip.wahaUrl
    session = chip.session
    has_waha_api_key = chip.hasWahaApiKey
    status = chip.status
    status_changed_at = JobView.time(Int64(chip.statusChangedAt.timeIntervalSince1970 * 1000))
    stopped_working_at = chip.stoppedWorkingAt.map { JobView.time(Int64($0.timeIntervalSince1970 * 1000)) }
    created_at = JobView.time(Int64(chip.createdAt.timeIntervalSince1970 * 1000))
  }

  func encode(to encoder: any Encoder) throws {
    enum Key: String, CodingKey {
      case id, name, waha_url, session, has_waha_api_key, status, status_changed_at, stopped_working_at, created_at
    }
    var c = encoder.container(keyedBy: Key.self)
    try c.encode(id, forKey: .id)
    try c.encode(name, forKey: .name)
    try c.encode(waha_url, forKey: .waha_url)
    try c.encode(session, forKey: .session)
    try c.encode(has_waha_api_key, forKey: .has_waha_api_key)
    try c.encode(status, forKey: .status)
    try c.encode(status_changed_at, forKey: .status_changed_at)
    try c.encode(stopped_working_at, forKey: .stopped_working_at)
    try c.encode(created_at, forKey: .created_at)
  }
}

struct ChipList: Encodable {
  var chips: [ChipView]
}
