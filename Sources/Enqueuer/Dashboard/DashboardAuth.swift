import HTTPTypes
import Hummingbird
import Store

/// Decides whether a presented key opens the dashboard. Answers are cached like the API's (see
/// `KeyCache`), so the page's refresh every few seconds is not a PostgreSQL read each time.
struct AdminGate: Sendable {
  static let cookie = "whago_admin"

  let store: Store
  let principals: KeyCache<Principal?>

  func isAdmin(_ key: String) async throws -> Bool {
    let principal = try await principals.value(for: key) { try await store.authenticate(key: key) }
    if case .admin = principal { return true }
    return false
  }

  /// The key a request presents: the login cookie (browsers) or a Bearer header (scripts).
  static func presentedKey(_ request: Request) -> String? {
    if let value = request.cookies[cookie]?.value, !value.isEmpty { return value }
    return try? Authenticator.bearer(request.headers[.authorization])
  }

  /// Sets the login cookie. HttpOnly keeps the key away from scripts; SameSite=Strict keeps other
  /// sites from riding it into the retry and delete forms; Secure when a TLS proxy says so.
  static func loginCookie(_ key: String, request: Request) -> String {
    "\(cookie)=\(key); HttpOnly; SameSite=Strict; Path=/dashboard" + (isHTTPS(request) ? "; Secure" : "")
  }

  static func logoutCookie(request: Request) -> String {
    "\(cookie)=; Max-Age=0; HttpOnly; SameSite=Strict; Path=/dashboard" + (isHTTPS(request) ? "; Secure" : "")
  }

  private static func isHTTPS(_ request: Request) -> Bool {
    request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
  }
}

/// Lets through requests that carry an admin key. Without one, people are sent to the login form
/// and scripts (the JSON routes) get a 401 problem they can act on.
struct DashboardAuth: RouterMiddleware {
  typealias Context = EnqueuerContext

  let gate: AdminGate

  func handle(
    _ request: Request, context: Context, next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    if let key = AdminGate.presentedKey(request), try await gate.isAdmin(key) {
      return try await next(request, context)
    }
    if request.uri.path.hasPrefix("/dashboard/api/") {
      throw Problem(
        .unauthorized, "admin-key-required", "The dashboard needs an admin key",
        detail: "send `Authorization: Bearer <admin key>` or log in at /dashboard/login; "
          + "create one with `whago apikey create --admin`")
    }
    return DashboardResponse.redirect(to: "/dashboard/login")
  }
}
