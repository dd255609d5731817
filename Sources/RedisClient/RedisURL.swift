import Foundation

/// Where Redis is: `redis://[[user]:password@]host[:port][/db]` or
/// `unix:///path/to.sock[?db=N&user=U&password=P]`. A user logs in as that ACL user (`AUTH user
/// password`); without one, `AUTH password` logs in as the default user.
public struct RedisURL: Sendable, CustomStringConvertible {
  public enum Endpoint: Sendable, Equatable {
    case tcp(host: String, port: Int)
    case unix(path: String)
  }

  public var endpoint: Endpoint
  public var username: String?
  public var password: String?
  public var database: Int

  public init(endpoint: Endpoint, username: String? = nil, password: String? = nil, database: Int = 0) {
    self.endpoint = endpoint
    self.username = username
    self.password = password
    self.database = database
  }

  public init(_ text: String) throws(RedisError) {
    guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
      throw RedisError(.invalidURL, "expected redis://host:port/db or unix:///path.sock")
    }
    let query = Dictionary(
      (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
    username = components.user.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding } ?? query["user"]
    password = components.password?.removingPercentEncoding ?? query["password"]
    switch scheme {
    case "redis":
      guard let host = components.host, !host.isEmpty else {
        throw RedisError(.invalidURL, "no host in redis:// URL")
      }
      let port = components.port ?? 6379
      guard (1...65535).contains(port) else { throw RedisError(.invalidURL, "port \(port) is out of range") }
      endpoint = .tcp(host: host, port: port)
      let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
      if path.isEmpty {
        database = 0
      } else if let db = Int(path), db >= 0 {
        database = db
      } else {
        throw RedisError(.invalidURL, "database must be a number, got '\(path)'")
      }
    case "unix", "redis+unix":
      guard !components.path.isEmpty else { throw RedisError(.invalidURL, "no socket path in unix:// URL") }
      endpoint = .unix(path: components.path)
      guard let db = Int(query["db"] ?? "0"), db >= 0 else {
        throw RedisError(.invalidURL, "db must be a number")
      }
      database = db
    default:
      throw RedisError(.invalidURL, "unsupported scheme '\(scheme)'; use redis:// or unix://")
    }
  }

  /// The URL with any password masked, safe for logs.
  public var description: String {
    let auth = password == nil ? "" : "\(username ?? ""):***@"
    switch endpoint {
    case .tcp(let host, let port): return "redis://\(auth)\(host):\(port)/\(database)"
    case .unix(let path):
      return "unix://\(path)?db=\(database)" + (username.map { "&user=\($0)" } ?? "")
        + (password == nil ? "" : "&password=***")
    }
  }
}
