import Foundation
import HTTPTypes
import Hummingbird
import JobQueue
import Store

extension HTTPField.Name {
  static let whagoTenant = HTTPField.Name("Whago-Tenant")!
  static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
}

/// Checks `Authorization: Bearer <key>`, decides which tenant the request acts for, and holds
/// tenant keys to their plan: API access at all, then its requests per hour (a token bucket in
/// Redis, so the limit holds across every `whago serve`).
struct Authenticator: RouterMiddleware {
  typealias Context = EnqueuerContext

  let store: Store
  let broker: Broker
  let principals: KeyCache<Principal?>
  let tenants: KeyCache<TenantAccess?>

  func handle(
    _ request: Request, context: Context, next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    let key = try Self.bearer(request.headers[.authorization])
    guard let principal = try await principals.value(for: key, load: { try await store.authenticate(key: key) })
    else { throw Problem.badKey }
    var context = context
    let named = request.headers[.whagoTenant]
    switch principal {
    case .tenant(let access, _):
      if let named, named != access.tenant.name {
        throw Problem(
          .forbidden, "tenant-key-scope", "A tenant key acts only for its tenant",
          detail: "this key belongs to one tenant; drop the Whago-Tenant header (service keys use it)")
      }
      try Self.checkStanding(access, request: request)
      guard access.plan.hasAPIAccess else {
        throw Problem(
          .forbidden, "no-api-access", "The plan has no API access",
          detail: "plan '\(access.plan.name)' does not include the REST API; it comes with enterprise")
      }
      if let perHour = access.plan.apiRequestsPerHour {
        try await Self.takeRequestToken(broker: broker, tenant: access.tenant.name, perHour: perHour)
      }
      context.access = access
    case .admin:
      throw Problem(
        .forbidden, "admin-key", "Admin keys open the dashboard",
        detail: "an admin key submits no work; use a tenant key or a service key with Whago-Tenant")
    case .service:
      context.byService = true
      // Without Whago-Tenant the request acts for no tenant: routes that need one answer 400
      // (EnqueuerContext.tenant), the ones that read across tenants read all.
      guard let named, !named.isEmpty else { return try await next(request, context) }
      guard let access = try await tenants.value(for: named, load: { try await store.tenantAccess(named: named) })
      else { throw Problem.notFound("no tenant '\(named.prefix(64))'; create it with `whago tenant create`") }
      try Self.checkStanding(access, request: request)
      context.access = access
    }
    return try await next(request, context)
  }

  static func bearer(_ header: String?) throws(Problem) -> String {
    guard let header, !header.isEmpty else { throw Problem.missingKey }
    // Plain UTF-8 slicing: this runs on every request, and Foundation's trimming showed in profiles.
    let bytes = header.utf8
    guard bytes.count > 7, bytes.prefix(7).map({ $0 | 0x20 }) == Array("bearer ".utf8) else {
      throw Problem(
        .unauthorized, "missing-api-key", "No API key",
        detail: "the Authorization header must be `Bearer whago_…`")
    }
    let key = bytes.dropFirst(7).drop(while: { $0 == 32 })
    return String(decoding: key.prefix(while: { $0 != 32 }), as: UTF8.self)
  }

  /// A suspended tenant is read-only, as WHAGO's PRD has it: it still reads everything (GET,
  /// HEAD) and reaches its billing (`/v1/subscription…`) to settle it; nothing else, so nothing is
  /// sent, created or changed until it pays.
  static func checkStanding(_ access: TenantAccess, request: Request) throws(Problem) {
    guard access.tenant.status != .active else { return }
    if request.method == .get || request.method == .head { return }
    let path = request.uri.path
    if path == "/v1/subscription" || path.hasPrefix("/v1/subscription/") { return }
    // A data subject's erasure is the law's, not the tenant's to postpone until it pays.
    if request.method == .delete && path.hasPrefix("/v1/contacts/") { return }
    throw Problem(
      .forbidden, "tenant-suspended", "The tenant is suspended",
      detail:
        "tenant '\(access.tenant.name)' is \(access.tenant.status) for non-payment and is read-only: GET requests "
        + "and /v1/subscription still work; settle the subscription (GET /v1/subscription shows the open invoice) "
        + "to send and change things again")
  }

  static func takeRequestToken(broker: Broker, tenant: String, perHour: Int) async throws {
    let bucket = TokenBucket(
      name: "api:\(tenant)", capacity: Double(max(perHour, 1)), refillPerSecond: Double(perHour) / 3600)
    if case .wait(let retryIn, _) = try await broker.take([bucket], horizon: .zero) {
      let seconds = Int((retryIn + 999) / 1000)
      throw Problem(
        .tooManyRequests, "rate-limited", "Too many requests",
        detail:
          "the plan allows \(perHour) API requests per hour; retry in \(seconds) s, or batch jobs with /v1/jobs/batch",
        retryAfter: seconds)
    }
  }
}
