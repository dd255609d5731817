import Crypto
import Foundation
import Postgres
import Wire

/// A browser logged in to the dashboard. The cookie holds `id`, a random token that is no key: it
/// ends by itself (idle or absolute expiry), at logout, and with the admin key it was opened with.
public struct DashboardSession: Sendable, Equatable {
  /// The cookie's value; shown only to the browser that logged in. Stored as its SHA-256.
  public let id: String
  /// What every form of this session sends back, so another site cannot post on its behalf.
  public let csrfToken: String
  public let keyID: Int64
}

/// How long a dashboard session lasts.
public struct DashboardSessionLifetime: Sendable {
  /// Without a request for this long, the session ends.
  public var idle: Duration
  /// However busy, the session ends this long after login.
  public var absolute: Duration

  /// No session outlives this, whatever `whago serve` is told; `retention.sweep` removes older ones.
  public static let longest: Duration = .seconds(7 * 86400)

  public init(idle: Duration = .seconds(30 * 60), absolute: Duration = .seconds(12 * 3600)) {
    self.idle = idle
    self.absolute = absolute
  }
}

/// How many failed logins slow down whom, counted in PostgreSQL so every host agrees.
public struct LoginThrottle: Sendable {
  /// Failures from one address within `window` before it must wait.
  public var perAddress = 10
  /// Failures with one key prefix (from anywhere) within `window` before it must wait.
  public var perKey = 5
  public var window: Duration = .seconds(15 * 60)
  public init() {}
}

enum DashboardSessionToken {
  private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

  /// 43 base62 characters: about 256 bits.
  static func generate() -> String {
    var rng = SystemRandomNumberGenerator()
    return String(decoding: (0..<43).map { _ in alphabet[Int(rng.next(upperBound: UInt8(62)))] }, as: UTF8.self)
  }

  static func hash(_ token: String) -> Data { Data(SHA256.hash(data: Data(token.utf8))) }
}

extension Store {
  /// Opens a session for an admin key just checked.
  public func openDashboardSession(keyID: Int64) async throws -> DashboardSession {
    let session = DashboardSession(
      id: DashboardSessionToken.generate(), csrfToken: DashboardSessionToken.generate(), keyID: keyID)
    try await pool.query(
      "INSERT INTO dashboard_sessions (id_hash, api_key_id, csrf_token) VALUES ($1, $2, $3)",
      [DashboardSessionToken.hash(session.id), keyID, session.csrfToken])
    return session
  }

  /// The live session a cookie names, touched so its idle time starts again; nil when it is
  /// unknown, idle too long, past its lifetime, logged out, or its key is revoked. Expiry is
  /// measured on PostgreSQL's clock, the same for every host.
  public func dashboardSession(id: String, lifetime: DashboardSessionLifetime) async throws -> DashboardSession? {
    guard !id.isEmpty, id.utf8.count <= 200 else { return nil }
    let rows = try await pool.query(
      """
      UPDATE dashboard_sessions s SET last_seen_at = now()
      FROM api_keys k
      WHERE s.id_hash = $1 AND k.id = s.api_key_id AND k.kind = 'admin' AND k.revoked_at IS NULL
        AND s.revoked_at IS NULL
        AND s.last_seen_at > now() - make_interval(secs => $2)
        AND s.created_at > now() - make_interval(secs => $3)
      RETURNING s.csrf_token, s.api_key_id
      """, [DashboardSessionToken.hash(id), lifetime.idle.seconds, lifetime.absolute.seconds])
    guard let row = rows.first else { return nil }
    return DashboardSession(id: id, csrfToken: try row.decode("csrf_token"), keyID: try row.decode("api_key_id"))
  }

  /// Ends a session (logout). Ending one already ended is no error.
  public func closeDashboardSession(id: String) async throws {
    try await pool.query(
      "UPDATE dashboard_sessions SET revoked_at = coalesce(revoked_at, now()) WHERE id_hash = $1",
      [DashboardSessionToken.hash(id)])
  }

  /// Removes sessions past any possible lifetime, and failed logins past any throttle window, so
  /// the tables hold only what can still matter. Returns the sessions removed.
  @discardableResult
  public func pruneDashboardSessions(olderThan age: Duration = DashboardSessionLifetime.longest) async throws -> Int {
    try await pool.query(
      "DELETE FROM dashboard_login_failures WHERE failed_at < now() - make_interval(secs => $1)", [age.seconds])
    return try await pool.query(
      "DELETE FROM dashboard_sessions WHERE created_at < now() - make_interval(secs => $1)", [age.seconds]
    ).affected
  }

  /// How long a login from `address` trying `key` must wait, or nil when it may try now. The key
  /// counts by its public prefix, so guessing one key's secret from many addresses is slowed too.
  public func loginWait(address: String, key: String, throttle: LoginThrottle) async throws -> Duration? {
    let (byAddress, byKey) = Self.loginScopes(address: address, key: key)
    let rows = try await pool.query(
      """
      SELECT scope, count(*)::bigint AS failures,
             extract(epoch FROM min(failed_at) + make_interval(secs => $2) - now())::float8 AS wait
      FROM dashboard_login_failures
      WHERE scope IN ($1, $3) AND failed_at > now() - make_interval(secs => $2)
      GROUP BY scope
      """, [byAddress, throttle.window.seconds, byKey])
    var wait: Double?
    for row in rows.rows {
      let scope: String = try row.decode("scope")
      let failures: Int64 = try row.decode("failures")
      let limit = scope.hasPrefix("key:") ? throttle.perKey : throttle.perAddress
      guard failures >= limit else { continue }
      wait = max(wait ?? 0, try row.decode("wait", as: Double.self))
    }
    return wait.map { .seconds(max(1, Int($0.rounded(.up)))) }
  }

  /// Counts a failed login against its address and the key prefix it tried.
  public func recordFailedLogin(address: String, key: String, throttle: LoginThrottle) async throws {
    let (byAddress, byKey) = Self.loginScopes(address: address, key: key)
    try await pool.query(
      """
      WITH pruned AS (
        DELETE FROM dashboard_login_failures WHERE failed_at < now() - make_interval(secs => $2))
      INSERT INTO dashboard_login_failures (scope)
      SELECT scope FROM (VALUES ($1::text), ($3::text)) AS tried (scope) WHERE scope IS NOT NULL
      """, [byAddress, throttle.window.seconds, byKey])
  }

  /// The address's scope, and the key prefix's when the text is a well-formed key.
  static func loginScopes(address: String, key: String) -> (String, String?) {
    ("address:" + String(address.prefix(100)), APIKeySecret.prefix(of: key).map { "key:" + $0 })
  }
}

extension Duration {
  /// Whole and fractional seconds, as PostgreSQL's `make_interval(secs => …)` takes them.
  fileprivate var seconds: Double {
    let (whole, fraction) = components
    return Double(whole) + Double(fraction) / 1e18
  }
}
