import Crypto
import Foundation
import Postgres
import Wire

/// An API key as stored: never the key itself, only its public prefix and a SHA-256 of it.
public struct APIKey: Codable, Sendable, Equatable {
  public enum Kind: String, Codable, Sendable {
    /// Acts as its tenant, within its plan's API access and rate.
    case tenant
    /// WHAGO's backend: acts for the tenant named in each request's `Whago-Tenant` header.
    case service
    /// Operators: opens the dashboard; submits nothing.
    case admin
  }

  public var id: Int64
  public var kind: Kind
  public var prefix: String
  public var tenant: String?
  public var label: String?
  public var createdAt: Date
  public var lastUsedAt: Date?
  public var revokedAt: Date?

  /// How listings show a key: enough to recognize it, nothing to use it.
  public var display: String { "\(APIKeySecret.scheme)\(prefix)…" }
}

/// A key just made: the only moment its full text exists outside the caller's hands.
public struct IssuedKey: Sendable {
  public let key: String
  public let record: APIKey
}

/// Who a presented key is.
public enum Principal: Sendable, Equatable {
  case tenant(TenantAccess, keyID: Int64)
  case service(keyID: Int64)
  case admin(keyID: Int64)
}

/// The key text: `whago_` + 12 characters of public prefix + 32 of secret (base62, about 190 bits).
enum APIKeySecret {
  static let scheme = "whago_"
  static let prefixLength = 12
  static let secretLength = 32
  private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

  static func generate() -> (key: String, prefix: String) {
    var rng = SystemRandomNumberGenerator()
    func random(_ n: Int) -> String {
      String(decoding: (0..<n).map { _ in alphabet[Int(rng.next(upperBound: UInt8(62)))] }, as: UTF8.self)
    }
    let prefix = random(prefixLength)
    return (scheme + prefix + random(secretLength), prefix)
  }

  /// The prefix of a well-formed key, or nil.
  static func prefix(of key: String) -> String? {
    let bytes = Array(key.utf8)
    let scheme = Array(Self.scheme.utf8)
    guard bytes.count == scheme.count + prefixLength + secretLength, bytes.starts(with: scheme) else { return nil }
    let rest = bytes[scheme.count...]
    guard rest.allSatisfy({ alphabet.contains($0) }) else { return nil }
    return String(decoding: rest.prefix(prefixLength), as: UTF8.self)
  }

  static func hash(_ key: String) -> Data {
    Data(SHA256.hash(data: Data(key.utf8)))
  }
}

public enum APIKeyError: Error, CustomStringConvertible, Equatable {
  case notFound(String)

  public var description: String {
    switch self {
    case .notFound(let prefix): "no API key with prefix '\(prefix)'; list them with `whago apikey list`"
    }
  }
}

extension Store {
  static let apiKeyColumns =
    "k.id, k.kind, k.prefix, t.name AS tenant, k.label, k.created_at, k.last_used_at, k.revoked_at"

  /// Makes a key for a tenant (nil: a service key, or an admin key with `admin`). The caller shows
  /// `key` once; it is not kept.
  public func createAPIKey(tenant name: String?, admin: Bool = false, label: String? = nil) async throws -> IssuedKey {
    var tenantID: TenantID?
    if let name { tenantID = try await tenant(named: name).id }
    let (key, prefix) = APIKeySecret.generate()
    let rows = try await pool.query(
      """
      WITH k AS (
        INSERT INTO api_keys (tenant_id, kind, prefix, secret_hash, label) VALUES ($1, $2, $3, $4, $5)
        RETURNING *)
      SELECT \(Self.apiKeyColumns) FROM k LEFT JOIN tenants t ON t.id = k.tenant_id
      """,
      [tenantID, name != nil ? "tenant" : admin ? "admin" : "service", prefix, APIKeySecret.hash(key), label])
    return IssuedKey(key: key, record: try rows[0].decode(APIKey.self))
  }

  public func apiKeys(tenant name: String? = nil) async throws -> [APIKey] {
    try await pool.query(
      """
      SELECT \(Self.apiKeyColumns) FROM api_keys k LEFT JOIN tenants t ON t.id = k.tenant_id
      WHERE $1::text IS NULL OR t.name = $1 ORDER BY k.created_at, k.id
      """, [name]
    ).decode(APIKey.self)
  }

  /// Revokes a key by its prefix (the `whago_` part is optional); it stops working at once here
  /// and within the enqueuer's key cache lifetime there.
  @discardableResult
  public func revokeAPIKey(prefix text: String) async throws -> APIKey {
    var prefix = text.hasPrefix(APIKeySecret.scheme) ? String(text.dropFirst(APIKeySecret.scheme.count)) : text
    if prefix.hasSuffix("…") { prefix.removeLast() }
    prefix = String(prefix.prefix(APIKeySecret.prefixLength))
    let rows = try await pool.query(
      """
      WITH k AS (
        UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE prefix = $1 RETURNING *)
      SELECT \(Self.apiKeyColumns) FROM k LEFT JOIN tenants t ON t.id = k.tenant_id
      """, [prefix])
    guard let row = rows.first else { throw APIKeyError.notFound(text) }
    return try row.decode(APIKey.self)
  }

  /// Who `key` is, or nil for a key that is malformed, unknown, revoked, or whose tenant is gone.
  public func authenticate(key: String) async throws -> Principal? {
    guard let prefix = APIKeySecret.prefix(of: key) else { return nil }
    let found = try await pool.query(
      """
      SELECT k.id, k.kind, k.secret_hash, k.revoked_at, t.name AS tenant
      FROM api_keys k LEFT JOIN tenants t ON t.id = k.tenant_id WHERE k.prefix = $1
      """, [prefix])
    guard let row = found.first else { return nil }
    let stored: Data = try row.decode("secret_hash")
    guard constantTimeEqual(stored, APIKeySecret.hash(key)) else { return nil }
    guard try row.decodeIfPresent("revoked_at", as: Date.self) == nil else { return nil }
    // At most one write a minute per key, so a busy key does not turn every request into an UPDATE.
    try await pool.query(
      """
      UPDATE api_keys SET last_used_at = now()
      WHERE prefix = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
      """, [prefix])
    let id: Int64 = try row.decode("id")
    switch try row.decode("kind", as: String.self) {
    case APIKey.Kind.service.rawValue: return .service(keyID: id)
    case APIKey.Kind.admin.rawValue: return .admin(keyID: id)
    default: break
    }
    guard let tenant = try row.decodeIfPresent("tenant", as: String.self),
      let access = try await tenantAccess(named: tenant)
    else { return nil }
    return .tenant(access, keyID: id)
  }
}
