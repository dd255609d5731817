import Foundation
import Postgres

/// A chip's way out to WhatsApp: the proxy account, and the sticky session id in its username that
/// keeps the chip on one residential IP. WhatsApp watches a number's IP; a number that hops between
/// addresses, or shares one with the tenant's other numbers, looks like a bulk sender. So the id
/// is drawn once, kept for the chip's life, and changed only when someone asks (rotate-proxy).
public struct ProxySession: Sendable, Equatable {
  /// `host:port` for an HTTP proxy, as WAHA's docs write `config.proxy.server`;
  /// `socks5://host:port` for a SOCKS5 one.
  public var server: String
  public var username: String
  public var password: String
  public var sessionID: String

  /// 12 characters from [a-z0-9]: about 62 bits, so two chips never draw the same IP by chance.
  public static func newSessionID() -> String {
    let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
    var generator = SystemRandomNumberGenerator()
    return String((0..<12).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
  }

  /// The provider's username for one sticky session.
  public static func username(template: String, username: String, country: String?, session: String) -> String {
    template.replacingOccurrences(of: "{username}", with: username)
      .replacingOccurrences(of: "{country}", with: country ?? "")
      .replacingOccurrences(of: "{session}", with: session)
  }
}

extension Store {
  /// Gives the chip a proxy if it has none: the account carrying the fewest chips, and a new
  /// sticky id. Safe to run twice: a chip that has one keeps it. Throws `.poolEmpty` when there is
  /// no account, so no number is connected from the server's own address.
  @discardableResult
  public func assignProxy(chipID: Int64) async throws -> Int64 {
    try await pool.transaction { connection in
      guard let row = try connection.query("SELECT proxy_id FROM chips WHERE id = $1 FOR UPDATE", [chipID]).first
      else { throw ChipError.notFound(chipID) }
      if let existing: Int64 = try row.decodeIfPresent("proxy_id") { return existing }
      guard
        let pick = try connection.query(
          """
          SELECT p.id FROM proxies p
          ORDER BY (SELECT count(*) FROM chips c WHERE c.proxy_id = p.id), p.id LIMIT 1
          """
        ).first
      else { throw ProxyError.poolEmpty }
      let proxyID: Int64 = try pick.decode("id")
      try connection.query(
        "UPDATE chips SET proxy_id = $2, proxy_session = $3 WHERE id = $1",
        [chipID, proxyID, ProxySession.newSessionID()])
      return proxyID
    }
  }

  /// Draws the chip a new sticky id (a new IP) on the least-used account, for rotate-proxy.
  public func rotateProxy(chipID: Int64) async throws {
    try await pool.transaction { connection in
      guard try connection.query("SELECT id FROM chips WHERE id = $1 FOR UPDATE", [chipID]).first != nil else {
        throw ChipError.notFound(chipID)
      }
      guard
        let pick = try connection.query(
          """
          SELECT p.id FROM proxies p
          ORDER BY (SELECT count(*) FROM chips c WHERE c.proxy_id = p.id AND c.id <> $1), p.id LIMIT 1
          """, [chipID]
        ).first
      else { throw ProxyError.poolEmpty }
      try connection.query(
        "UPDATE chips SET proxy_id = $2, proxy_session = $3 WHERE id = $1",
        [chipID, try pick.decode("id", as: Int64.self), ProxySession.newSessionID()])
    }
  }

  /// The chip's proxy credentials, the password opened with `box`; nil when it has no proxy.
  public func proxySession(chipID: Int64, box: SecretBox) async throws -> ProxySession? {
    guard
      let row = try await pool.query(
        """
        SELECT p.host, p.port, p.username, p.password_sealed, p.country, p.username_template, p.protocol,
          c.proxy_session
        FROM chips c JOIN proxies p ON p.id = c.proxy_id WHERE c.id = $1
        """, [chipID]
      ).first
    else { return nil }
    let session: String = try row.decode("proxy_session")
    let sealed: Data = try row.decode("password_sealed")
    return ProxySession(
      server: (try row.decode("protocol", as: String.self) == "socks5" ? "socks5://" : "")
        + "\(try row.decode("host", as: String.self)):\(try row.decode("port", as: Int.self))",
      username: ProxySession.username(
        template: try row.decode("username_template"), username: try row.decode("username"),
        country: try row.decodeIfPresent("country"), session: session),
      password: try box.open(Array(sealed)), sessionID: session)
  }
}
