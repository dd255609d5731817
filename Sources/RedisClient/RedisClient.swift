import Foundation
import Logging
import Synchronization

/// A shared Redis client: any number of tasks call it concurrently, and the commands that arrive
/// while a round trip is in flight go out together in the next one (pipelining), so a thousand
/// callers pay a handful of round trips rather than a thousand.
///
/// hiredis is blocking, so the connection lives on a thread of its own and never blocks Swift's
/// cooperative pool. A broken connection fails the commands in flight with a transient error and
/// is re-established, with backoff, by the next command: callers that retry transient errors
/// resume by themselves after a Redis restart or failover.
///
/// On Redis Cluster (`redis+cluster://`) the same calls are routed by key to the master of each
/// key's slot, one connection thread per master (see `ClusterRouter`).
public final class RedisClient: Sendable {
  public struct Options: Sendable {
    public var connectTimeout: Duration = .seconds(2)
    /// How long one round trip may take. `nil` waits forever (for blocking commands).
    public var commandTimeout: Duration? = .seconds(10)
    /// Most commands written in one round trip.
    public var maxPipeline = 4096
    public init() {}
  }

  public let url: RedisURL
  public let options: Options
  private let connection: Connection
  private let scripts = Mutex<[String: String]>([:])

  private enum Connection: Sendable {
    case single(PipelineThread)
    case cluster(ClusterRouter)
  }

  public init(url: RedisURL, options: Options = Options(), logger: Logger = Logger(label: "whago.redis")) {
    _ = Self.ignoreBrokenPipes
    self.url = url
    self.options = options
    if case .cluster(let nodes) = url.endpoint {
      connection = .cluster(ClusterRouter(url: url, seeds: nodes, options: options, logger: logger))
    } else {
      connection = .single(PipelineThread(url: url, options: options, logger: logger))
    }
  }

  /// True on Redis Cluster, where one command may name keys of one slot only.
  public var isCluster: Bool {
    if case .cluster = connection { return true }
    return false
  }

  /// The masters of a cluster (one entry, this client's own URL, on a single server), each as a
  /// URL of its own: operator tools that must see every node (a key count, INFO) ask each.
  public func masters() async throws -> [RedisURL] {
    guard case .cluster(let router) = connection else { return [url] }
    return try await router.masters().map(url.direct)
  }

  /// hiredis writes with plain write(2): a write to a connection Redis has just closed (a restart,
  /// a failover; at once on a Unix socket) raises SIGPIPE, whose default action kills the whole
  /// process. Ignored, the write fails with EPIPE instead, and the client reconnects.
  private static let ignoreBrokenPipes: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

  /// The thread holds only its own state, so a client that goes out of scope stops it here.
  deinit {
    close()
  }

  /// Stops the connection thread after the commands already queued; later calls fail with `.closed`.
  public func close() {
    switch connection {
    case .single(let thread): thread.close()
    case .cluster(let router): router.close()
    }
  }

  /// Closes and returns once the connection thread is gone: a process calls this before it exits,
  /// so hiredis is not tearing down a connection while the exit handlers run.
  public func shutdown() async {
    switch connection {
    case .single(let thread): await thread.shutdown()
    case .cluster(let router): await router.shutdown()
    }
  }

  /// Runs commands in one round trip and returns every reply, error replies included. On a
  /// cluster, one round trip per master, all at once.
  public func pipeline(_ commands: [RedisCommand]) async throws -> [RedisValue] {
    switch connection {
    case .single(let thread): try await thread.pipeline(commands)
    case .cluster(let router): try await router.pipeline(commands)
    }
  }

  /// Runs one command; an error reply is thrown as `RedisError.server`.
  @discardableResult
  public func send(_ command: RedisCommand) async throws -> RedisValue {
    let reply = try await pipeline([command])[0]
    if case .error(let message) = reply { throw serverError(message) }
    return reply
  }

  /// A server error; a cluster's redirection reaching a single-server client says what to change.
  private func serverError(_ message: String) -> RedisError {
    if !isCluster, message.contains("MOVED ") || message.contains("ASK ") {
      return RedisError(
        .server, "\(message): \(url) is a Redis Cluster node; use redis+cluster://host:port in WHAGO_REDIS_URL")
    }
    return RedisError(.server, message)
  }

  @discardableResult
  public func send(_ name: String, _ arguments: String...) async throws -> RedisValue {
    try await send(RedisCommand(name, arguments))
  }

  // MARK: Scripts

  /// Runs a Lua script by SHA, learning the SHA on first use; after NOSCRIPT (a Redis restart,
  /// SCRIPT FLUSH, or a cluster node that has not run it yet) it is sent once with its source
  /// (EVAL, which also caches it on the node that runs it), so callers never ship the source on
  /// the hot path.
  public func evaluate(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RedisValue {
    try await evaluate(script, keys: keys, arguments: arguments.map { Array($0.utf8) })
  }

  public func evaluate(_ script: RedisScript, keys: [String], arguments: [[UInt8]]) async throws -> RedisValue {
    let sha: String
    if let cached = scripts.withLock({ $0[script.name] }) {
      sha = cached
    } else {
      guard let loaded = try await send("SCRIPT", "LOAD", script.source).string else {
        throw RedisError(.server, "SCRIPT LOAD returned no SHA for \(script.name)")
      }
      scripts.withLock { $0[script.name] = loaded }
      sha = loaded
    }
    var args: [[UInt8]] = [Array("EVALSHA".utf8), Array(sha.utf8), Array(String(keys.count).utf8)]
    args.append(contentsOf: keys.map { Array($0.utf8) })
    args.append(contentsOf: arguments)
    var reply = try await pipeline([RedisCommand(bytes: args)])[0]
    if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
      args[0] = Array("EVAL".utf8)
      args[1] = Array(script.source.utf8)
      reply = try await pipeline([RedisCommand(bytes: args)])[0]
    }
    if case .error(let message) = reply {
      throw serverError("\(script.name): \(message)")
    }
    return reply
  }

  /// Runs one script many times in a single round trip, in order (a bulk enqueue keeps its FIFO
  /// order this way). Calls that hit NOSCRIPT are retried one by one after the reload.
  public func evaluateAll(_ script: RedisScript, calls: [(keys: [String], arguments: [String])]) async throws
    -> [RedisValue]
  {
    guard let first = calls.first else { return [] }
    // The first call goes alone: it loads the script when this client has not seen it yet.
    var replies = [try await evaluate(script, keys: first.keys, arguments: first.arguments)]
    guard calls.count > 1, let sha = scripts.withLock({ $0[script.name] }) else { return replies }
    let rest = calls.dropFirst()
    let commands = rest.map { call in
      RedisCommand("EVALSHA", [sha, String(call.keys.count)] + call.keys + call.arguments)
    }
    let raw = try await pipeline(commands)
    for (call, reply) in zip(rest, raw) {
      if case .error(let message) = reply {
        if message.hasPrefix("NOSCRIPT") {
          replies.append(try await evaluate(script, keys: call.keys, arguments: call.arguments))
          continue
        }
        throw serverError("\(script.name): \(message)")
      }
      replies.append(reply)
    }
    return replies
  }
}
