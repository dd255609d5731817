import Foundation

/// Where Redis is: `redis://[[user]:password@]host[:port][/db]` or
/// `unix:///path/to.sock[?db=N&user=U&password=P]`, or through Redis Sentinel
/// `redis+sentinel://[[user]:password@]s1:26379,s2:26379/master-name[/db]`, or a Redis Cluster
/// `redis+cluster://[[user]:password@]node1:6379,node2:6379[/]` (any reachable nodes; the rest are
/// learned from the cluster). A user logs in as that ACL user (`AUTH user password`); without one,
/// `AUTH password` logs in as the default user.
public struct RedisURL: Sendable, CustomStringConvertible {
  public enum Endpoint: Sendable, Equatable {
    case tcp(host: String, port: Int)
    case unix(path: String)
    /// Whichever server the sentinels at `nodes` name as the master of `master`, asked at every
    /// (re)connection, so a failover is followed by reconnecting.
    case sentinel(nodes: [SentinelNode], master: String)
    /// A Redis Cluster, reached first through any of `nodes`: commands go to the master that holds
    /// their key's slot, following the cluster's MOVED and ASK redirections.
    case cluster(nodes: [ClusterNode])
  }

  /// A cluster node's address: the same host and port as a sentinel's.
  public typealias ClusterNode = SentinelNode

  /// One Redis Sentinel's (or cluster node's) address.
  public struct SentinelNode: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
      self.host = host
      self.port = port
    }

    /// `host:port`, the form MOVED and ASK name a node in (the port after the last colon).
    public init?(_ text: some StringProtocol) {
      guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
        (1...65535).contains(port), colon > text.startIndex
      else { return nil }
      self.init(host: String(text[..<colon]), port: port)
    }

    public var description: String { "\(host):\(port)" }
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
    if text.lowercased().hasPrefix("redis+cluster://") {
      self = try Self.cluster(String(text.dropFirst("redis+cluster://".count)))
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
      throw RedisError(
        .invalidURL, "unsupported scheme '\(scheme)'; use redis://, unix://, redis+sentinel:// or redis+cluster://")
    }
  }

  /// The same credentials and database on one server: a cluster's master, or the master the
  /// sentinels named.
  public func direct(_ node: SentinelNode) -> RedisURL {
    var direct = self
    direct.endpoint = .tcp(host: node.host, port: node.port)
    return direct
  }

  /// The URL with any password masked, safe for logs.
  public var description: String {
    let auth = password == nil ? "" : "\(username ?? ""):***@"
    switch endpoint {
    case .tcp(let host, let port): return "redis://\(auth)\(host):\(port)/\(database)"
    case .sentinel(let nodes, let master):
      return
        "redis+sentinel://\(auth)\(nodes.map(\.description).joined(separator: ","))/\(master)/\(database)"
    case .cluster(let nodes):
      return "redis+cluster://\(auth)\(nodes.map(\.description).joined(separator: ","))/"
    case .unix(let path):
      return "unix://\(path)?db=\(database)" + (username.map { "&user=\($0)" } ?? "")
        + (password == nil ? "" : "&password=***")
    }
  }

  /// `[user:password@]host:port[,host:port…]/master-name[/db]`: URLComponents reads one host only.
  private static func sentinel(_ rest: String) throws(RedisError) -> RedisURL {
    let (username, password, hosts, path) = try splitMultiHost(rest)
    guard path.count >= 1, !path[0].isEmpty else {
      throw RedisError(.invalidURL, "redis+sentinel:// needs the master's name: redis+sentinel://host:26379/mymaster")
    }
    let nodes = try parseNodes(hosts, defaultPort: 26379, kind: "sentinel")
    var database = 0
    if path.count > 1, !path[1].isEmpty {
      guard let db = Int(path[1]), db >= 0 else { throw RedisError(.invalidURL, "database must be a number") }
      database = db
    }
    return RedisURL(
      endpoint: .sentinel(nodes: nodes, master: String(path[0])), username: username, password: password,
      database: database)
  }

  /// `[user:password@]host:port[,host:port…][/]`: a cluster has only database 0.
  private static func cluster(_ rest: String) throws(RedisError) -> RedisURL {
    let (username, password, hosts, path) = try splitMultiHost(rest)
    if let extra = path.first(where: { !$0.isEmpty && $0 != "0" }) {
      throw RedisError(
        .invalidURL, "Redis Cluster has only database 0; remove '/\(extra)' from the redis+cluster:// URL")
    }
    let nodes = try parseNodes(hosts, defaultPort: 6379, kind: "cluster node")
    return RedisURL(endpoint: .cluster(nodes: nodes), username: username, password: password)
  }

  /// Splits `[user:password@]hosts[/path…]` into its credentials, host list and path pieces.
  private static func splitMultiHost(_ text: String) throws(RedisError) -> (
    username: String?, password: String?, hosts: Substring, path: [Substring]
  ) {
    var rest = Substring(text)
    var username: String?
    var password: String?
    if let at = rest.lastIndex(of: "@") {
      let credentials = rest[..<at]
      rest = rest[rest.index(after: at)...]
      let parts = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
      username = parts.first.flatMap { $0.isEmpty ? nil : String($0).removingPercentEncoding }
      password = parts.count > 1 ? String(parts[1]).removingPercentEncoding : nil
    }
    let pieces = rest.split(separator: "/", omittingEmptySubsequences: false)
    return (username, password, pieces.first ?? "", Array(pieces.dropFirst()))
  }

  private static func parseNodes(_ hosts: Substring, defaultPort: Int, kind: String) throws(RedisError)
    -> [SentinelNode]
  {
    var nodes: [SentinelNode] = []
    for node in hosts.split(separator: ",") {
      let hostPort = node.split(separator: ":")
      guard hostPort.count <= 2, let host = hostPort.first, !host.isEmpty else {
        throw RedisError(.invalidURL, "\(kind) address '\(node)' is not host:port")
      }
      let port = hostPort.count == 2 ? Int(hostPort[1]) : defaultPort
      guard let port, (1...65535).contains(port) else {
        throw RedisError(.invalidURL, "\(kind) address '\(node)' has no valid port")
      }
      nodes.append(SentinelNode(host: String(host), port: port))
    }
    guard !nodes.isEmpty else { throw RedisError(.invalidURL, "the URL names no \(kind)") }
    return nodes
  }
}
