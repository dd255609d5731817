/// An error from talking to Redis. Its description never contains a password or command arguments.
public struct RedisError: Error, Sendable, CustomStringConvertible, Equatable {
  public enum Kind: Sendable, Equatable {
    /// The URL could not be understood.
    case invalidURL
    /// No connection could be made (refused, unreachable, bad password).
    case connectFailed
    /// An established connection broke; the command may or may not have run.
    case connectionLost
    /// Redis did not answer in time.
    case timeout
    /// Redis answered with an error reply.
    case server
    /// The client was shut down.
    case closed
  }

  public let kind: Kind
  public let message: String

  public init(_ kind: Kind, _ message: String) {
    self.kind = kind
    self.message = message
  }

  /// True for failures that a retry after a pause can cure: a restart, a failover, a dataset still loading.
  public var isTransient: Bool {
    switch kind {
    case .connectFailed, .connectionLost, .timeout: true
    case .server:
      message.hasPrefix("LOADING") || message.hasPrefix("READONLY") || message.hasPrefix("MASTERDOWN")
        || message.hasPrefix("TRYAGAIN") || message.hasPrefix("BUSY")
        || message.hasPrefix("CLUSTERDOWN")
    case .invalidURL, .closed: false
    }
  }

  public var description: String {
    switch kind {
    case .invalidURL: "invalid Redis URL: \(message)"
    case .connectFailed: "cannot connect to Redis: \(message) (check WHAGO_REDIS_URL and that redis-server is running)"
    case .connectionLost: "lost the Redis connection: \(message)"
    case .timeout: "Redis did not answer in time: \(message)"
    case .server: "Redis error: \(message)"
    case .closed: "Redis client is closed"
    }
  }
}
