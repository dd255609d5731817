import HTTPTypes
import Hummingbird
import NIOCore
import Store
import Wire

/// Decides who opens the dashboard: a browser with a live session cookie, or a script with an
/// admin key in a Bearer header. Browsers never hold the key itself: logging in trades it for a
/// random session id that expires, ends at logout, and dies with its key.
struct AdminGate: Sendable {
  static let cookie = "whago_session"

  let store: Store
  let principals: KeyCache<Principal?>
  let lifetime: DashboardSessionLifetime
  let throttle: LoginThrottle

  /// The admin key's id, or nil for any other key. Answers are cached like the API's (see
  /// `KeyCache`), so a script polling the JSON overview is not a PostgreSQL read each time.
  func adminKeyID(_ key: String) async throws -> Int64? {
    let principal = try await principals.value(for: key) { try await store.authenticate(key: key) }
    if case .admin(let id) = principal { return id }
    return nil
  }

  /// The live session the request's cookie names. Never cached: a logout or an expiry ends it at
  /// the next request.
  func session(_ request: Request) async throws -> DashboardSession? {
    guard let id = request.cookies[Self.cookie]?.value, !id.isEmpty else { return nil }
    return try await store.dashboardSession(id: id, lifetime: lifetime)
  }

  /// The session cookie. HttpOnly keeps it from scripts; SameSite=Strict keeps other sites from
  /// riding it; Secure except on plain HTTP from this machine (an operator's local run), where a
  /// browser would not send it back.
  static func sessionCookie(_ id: String, request: Request, context: EnqueuerContext) -> String {
    "\(cookie)=\(id); HttpOnly; SameSite=Strict; Path=/dashboard" + secure(request, context)
  }

  static func clearedCookie(request: Request, context: EnqueuerContext) -> String {
    "\(cookie)=; Max-Age=0; HttpOnly; SameSite=Strict; Path=/dashboard" + secure(request, context)
  }

  private static func secure(_ request: Request, _ context: EnqueuerContext) -> String {
    let https = request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
    return https || !context.fromLoopback ? "; Secure" : ""
  }

  /// Whether a browser sent this request from another site. Browsers send `Origin` with every
  /// POST; one that names another host than the request's own is refused whatever it carries.
  static func crossSite(_ request: Request) -> Bool {
    guard let origin = request.headers[HTTPField.Name("Origin")!] else { return false }
    guard let host = request.head.authority else { return true }
    let bare = origin.split(separator: "://", maxSplits: 1).last.map(String.init) ?? origin
    return bare.lowercased() != host.lowercased()
  }
}

/// The dashboard session serving the current request, for pages to write its CSRF token into
/// their forms and for form handlers to check it. Nil for scripts with a Bearer key: they carry
/// no ambient credential another site could borrow, so they need no token.
enum DashboardForm {
  @TaskLocal static var session: DashboardSession?
  /// The admin key behind the request (its session's, or the Bearer key), for the audit trail.
  @TaskLocal static var keyID: Int64?

  static let csrfName = "csrf"

  /// The hidden field every form of a session carries.
  static var csrfField: String {
    guard let token = session?.csrfToken else { return "" }
    return "<input type=\"hidden\" name=\"\(csrfName)\" value=\"\(html(token))\">"
  }

  /// Refuses a form posted without its session's token.
  static func check(_ fields: FormFields) throws {
    guard let session else { return }
    guard constantTimeEqual(fields[csrfName], session.csrfToken) else {
      throw Problem(
        .forbidden, "csrf-token-mismatch", "This form is not from this dashboard session",
        detail: "reload the page and submit the form again; forms from other sites are refused")
    }
  }
}

/// Lets through requests with a live session or an admin Bearer key. Without one, people are
/// sent to the login form and scripts (the JSON routes) get a 401 problem they can act on.
struct DashboardAuth: RouterMiddleware {
  typealias Context = EnqueuerContext

  let gate: AdminGate

  func handle(
    _ request: Request, context: Context, next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    if let key = try? Authenticator.bearer(request.headers[.authorization]), let id = try await gate.adminKeyID(key) {
      return try await DashboardForm.$keyID.withValue(id) { try await next(request, context) }
    }
    if let session = try await gate.session(request) {
      if request.method != .get, request.method != .head, AdminGate.crossSite(request) {
        throw Problem(
          .forbidden, "cross-site-request", "Forms from other sites are refused",
          detail: "use the dashboard's own pages to retry or delete jobs")
      }
      return try await DashboardForm.$session.withValue(session) {
        try await DashboardForm.$keyID.withValue(session.keyID) { try await next(request, context) }
      }
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
