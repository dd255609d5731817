import Foundation
import Postgres

/// One residential proxy account in the operators' pool. Each chip gets its own sticky session on
/// one of them (see `ProxySession`); the password is sealed at rest and never shown.
public struct Proxy: Codable, Sendable, Equatable {
  public var id: Int64
  public var provider: String
  public var host: String
  public var port: Int
  public var username: String
  public var country: String?
  public var usernameTemplate: String
  /// http or socks5.
  public var `protocol`: String
  /// Chips whose session goes through it.
  public var chips: Int
  public var createdAt: Date
}

/// What an operator adds: the account, in the provider's own terms.
public struct NewProxy: Sendable {
  public var provider: String
  public var host: String
  public var port: Int
  public var username: String
  public var password: String
  public var country: String?
  /// Nil: the provider's documented format (`ProxyProvider`).
  public var usernameTemplate: String?
  /// http or socks5; nil: the provider's for that port (DataImpulse 824 is SOCKS5), else http.
  public var `protocol`: String?

  public init(
    provider: String, host: String, port: Int, username: String, password: String, country: String? = nil,
    usernameTemplate: String? = nil, protocol: String? = nil
  ) {
    self.protocol = `protocol`
    self.provider = provider
    self.host = host
    self.port = port
    self.username = username
    self.password = password
    self.country = country
    self.usernameTemplate = usernameTemplate
  }
}

/// How each provider we know spells a sticky session in the proxy username, kept as data: a
/// provider that changes its format is a new template, not new code.
public enum ProxyProvider {
  /// DataImpulse's documented form, `<login>__cr.br;sessid.<id>` (WHAGO's own `_session-<hex>`
  /// form was rejected by the provider).
  public static let templates: [String: (withCountry: String, withoutCountry: String)] = [
    "dataimpulse": ("{username}__cr.{country};sessid.{session}", "{username};sessid.{session}")
  ]

  /// The protocol a provider serves on a port, where its docs say (DataImpulse: SOCKS5 on 824).
  public static func defaultProtocol(provider: String, port: Int) -> String {
    provider == "dataimpulse" && port == 824 ? "socks5" : "http"
  }

  public static func template(provider: String, country: String?) -> String? {
    templates[provider].map { country == nil ? $0.withoutCountry : $0.withCountry }
  }
}

public enum ProxyError: Error, CustomStringConvertible, Equatable {
  case invalid([String])
  case exists
  case notFound(Int64)
  case inUse(id: Int64, chips: Int)
  case poolEmpty

  public var description: String {
    switch self {
    case .invalid(let problems): problems.joined(separator: "; ")
    case .exists: "that proxy account (provider, host, port and username) is already in the pool"
    case .notFound(let id): "no proxy \(id); list them with `whago proxy list`"
    case .inUse(let id, let chips):
      "proxy \(id) carries \(chips) chip(s); rotate them to another proxy first (POST /v1/chips/{id}/rotate-proxy)"
    case .poolEmpty:
      "the proxy pool is empty: no chip is connected without a proxy; add one with `whago proxy add`"
    }
  }
}

extension Store {
  static let proxyColumns =
    "p.id, p.provider, p.host, p.port, p.username, p.country, p.username_template, p.protocol, p.created_at, "
    + "(SELECT count(*)::int FROM chips c WHERE c.proxy_id = p.id) AS chips"

  /// Adds an account to the pool, its password sealed by `box`.
  public func addProxy(_ proxy: NewProxy, box: SecretBox) async throws -> Proxy {
    var problems: [String] = []
    if proxy.provider.isEmpty || proxy.provider.count > 32
      || !proxy.provider.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_") })
    {
      problems.append("provider must be 1 to 32 lowercase letters, digits, '-' or '_' (e.g. dataimpulse)")
    }
    if proxy.host.isEmpty || proxy.host.count > 253
      || proxy.host.contains(where: { $0 == "/" || $0 == ":" || $0 == " " })
    {
      problems.append("host must be a host name or address, without scheme or port (e.g. gw.dataimpulse.com)")
    }
    if !(1...65535).contains(proxy.port) { problems.append("port must be 1 to 65535") }
    if proxy.username.isEmpty || proxy.username.count > 200 { problems.append("username must be 1 to 200 characters") }
    if proxy.password.isEmpty { problems.append("the password is empty") }
    if let country = proxy.country, country.count != 2 || !country.allSatisfy({ $0.isASCII && $0.isLowercase }) {
      problems.append("country must be a two-letter lowercase code (e.g. br)")
    }
    let template = proxy.usernameTemplate ?? ProxyProvider.template(provider: proxy.provider, country: proxy.country)
    if let template {
      if !template.contains("{session}") { problems.append("the username template must hold {session}") }
      if template.contains("{country}"), proxy.country == nil {
        problems.append("the username template uses {country}: give --country")
      }
    } else {
      problems.append(
        "no known username format for provider '\(proxy.provider)': give --username-template, e.g. '{username}-session-{session}'"
      )
    }
    let proto = proxy.protocol ?? ProxyProvider.defaultProtocol(provider: proxy.provider, port: proxy.port)
    if !["http", "socks5"].contains(proto) { problems.append("protocol must be http or socks5") }
    guard problems.isEmpty, let template else { throw ProxyError.invalid(problems) }
    let sealed = Data(try box.seal(proxy.password))
    do {
      let rows = try await pool.query(
        """
        WITH p AS (
          INSERT INTO proxies (provider, host, port, username, password_sealed, country, username_template, protocol)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *
        ) SELECT p.id, p.provider, p.host, p.port, p.username, p.country, p.username_template, p.protocol,
          p.created_at, 0 AS chips FROM p
        """,
        [proxy.provider, proxy.host.lowercased(), proxy.port, proxy.username, sealed, proxy.country, template, proto])
      return try rows[0].decode(Proxy.self)
    } catch let error as PostgresError where error.isUniqueViolation {
      throw ProxyError.exists
    }
  }

  public func proxies() async throws -> [Proxy] {
    try await pool.query("SELECT \(Self.proxyColumns) FROM proxies p ORDER BY p.id").decode(Proxy.self)
  }

  /// Removes an account no chip uses; one in use is refused with the count.
  public func removeProxy(id: Int64) async throws {
    try await pool.transaction { connection in
      guard try connection.query("SELECT id FROM proxies WHERE id = $1 FOR UPDATE", [id]).first != nil else {
        throw ProxyError.notFound(id)
      }
      let chips = try connection.query("SELECT count(*)::int AS n FROM chips WHERE proxy_id = $1", [id])[0]
        .decode("n", as: Int.self)
      if chips > 0 { throw ProxyError.inUse(id: id, chips: chips) }
      try connection.query("DELETE FROM proxies WHERE id = $1", [id])
    }
  }
}
