import Foundation

/// Where Redis is: `redis://[[user]:password@]host[:port][/db]` or
/// `unix:///path/to.sock[?db=N&user=U&password=P]`, or through Redis Sentinel
/// `redis+sentinel://[[user]:password@]s1:26379,s2:26379/master-name[/db]`. A user logs in as that ACL user (`AUTH user
/// password`); without one, `AUTH password` logs in as the default user.
public struct RedisURL: Sendable, CustomStringConvertible {
  public enum Endpoint: Sendable, Equatable {
    case tcp(host: String, port: Int)
    case unix(path: String)
    /// Whichever server the sentinels at `nodes` name as the master of `master`, asked at every
    /// (re)connection, so a failover is followed by reconnecting.
    case sentinel(nodes: [SentinelNode], master: String)
  }

  /// One Redis Sentinel's address.
  public struct SentinelNode: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
      self.host = host
      self.port = port
    }
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
    if text.lowercased().hasPrefix("redis+sentinel://") {
      self = try Self.sentinel(String(text.dropFirst("redis+sentinel://".count)))
      return
    }
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
      throw RedisError(.invalidURL, "unsupported scheme '\(scheme)'; use redis://, unix:// or redis+sentinel://")
    }
  }

  /// The URL with any password masked, safe for logs.
  public var description: String {
    let auth = password == nil ? "" : "\(username ?? ""):***@"
    switch endpoint {
    case .tcp(let host, let port): return "redis://\(auth)\(host):\(port)/\(database)"
    case .sentinel(let nodes, let master):
      return
        "redis+sentinel://\(auth)\(nodes.map { "\($0.host):\($0.port)" }.joined(separator: ","))/\(master)/\(database)"
    case .unix(let path):
      return "unix://\(path)?db=\(database)" + (username.map { "&user=\($0)" } ?? "")
        + (password == nil ? "" : "&password=***")
    }
  }

  /// `[user:password@]host:port[,host:port…]/master-name[/db]`: URLComponents reads one host only.
  private static func sentinel(_ rest: String) throws(RedisError) -> RedisURL {
    var rest = Substring(rest)
    var username: String?
    var password: String?
    if let at = rest.lastIndex(of: "@") {
      let credentials = rest[..<at]
      rest = rest[rest.index(after: at)...]
      let parts = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
      username = parts.first.flatMap { $0.isEmpty ? nil : String($0).removingPercentEncoding }
      password = parts.count > 1 ? String(parts[1]).removingPercentEncoding : nil
    }
    let path = rest.split(separator: "/", omittingEmptySubsequences: false)
    guard path.count >= 2, !path[1].isEmpty else {
      throw RedisError(.invalidURL, "redis+sentinel:// needs the master's name: redis+sentinel://host:26379/mymaster")
    }
    var nodes: [SentinelNode] = []
    for node in path[0].split(separator: ",") {
      let hostPort = node.split(separator: ":")
      guard hostPort.count <= 2, let host = hostPort.first, !host.isEmpty else {
        throw RedisError(.invalidURL, "sentinel address '\(node)' is not host:port")
      }
      let port = hostPort.count == 2 ? Int(hostPort[1]) : 26379
      guard let port, (1...65535).contains(port) else {
        throw RedisError(.invalidURL, "sentinel address '\(node)' has no valid port")
      }
      nodes.append(SentinelNode(host: String(host), port: port))
    }
    guard !nodes.isEmpty else { throw RedisError(.invalidURL, "redis+sentinel:// names no sentinel") }
    var database = 0
    if path.count > 2, !path[2].isEmpty {
      guard let db = Int(path[2]), db >= 0 else { throw RedisError(.invalidURL, "database must be a number") }
      database = db
    }
    return RedisURL(
      endpoint: .sentinel(nodes: nodes, master: String(path[1])), username: username, password: password,
      database: database)
  }
}
