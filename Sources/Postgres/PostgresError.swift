/// An error from PostgreSQL or from reading its answer. Its description never holds a password
/// or a query's parameters.
public struct PostgresError: Error, Sendable, CustomStringConvertible, Equatable {
  public enum Kind: Sendable, Equatable {
    case invalidURL
    /// A setting of the connection (not its URL) has a value whago does not know.
    case invalidSetting
    /// No connection could be made (refused, unreachable, bad password, no such database).
    case connectFailed
    /// The connection broke during a query; it may or may not have run.
    case connectionLost
    /// The server rejected the statement; `sqlState` says why.
    case server
    /// A column did not hold what the code expected.
    case decode
    /// The pool was shut down.
    case closed
    /// Every connection was taken and too many requests were waiting, or one waited past the
    /// pool's deadline: the statement never ran. Retrying shortly may find a connection free.
    case busy
  }

  public let kind: Kind
  public let message: String
  /// The five-character SQLSTATE of a server error (23505: unique violation, 40001: serialization).
  public let sqlState: String?
  /// The constraint a violation names, when the server says.
  public let constraint: String?

  public init(_ kind: Kind, _ message: String, sqlState: String? = nil, constraint: String? = nil) {
    self.kind = kind
    self.message = message
    self.sqlState = sqlState
    self.constraint = constraint
  }

  public var isUniqueViolation: Bool { sqlState == "23505" }
  public var isForeignKeyViolation: Bool { sqlState == "23503" }
  public var isCheckViolation: Bool { sqlState == "23514" }

  /// The statement was refused for the data it carried: an integrity rule (class 23: unique,
  /// foreign key, check, not null) or a data exception (class 22: a NUL in text, a number out of
  /// range, a string too long). Sending the same again fails the same way.
  public var refusesTheData: Bool {
    kind == .server && (sqlState?.hasPrefix("23") == true || sqlState?.hasPrefix("22") == true)
  }

  /// The server aborted the transaction to break a deadlock (40P01) or for a serialization
  /// conflict (40001): the same transaction run again can succeed.
  public var isConflict: Bool { kind == .server && (sqlState == "40001" || sqlState == "40P01") }

  /// Failures a retry can cure: a restart, a failover, a serialization conflict.
  public var isTransient: Bool {
    switch kind {
    case .connectFailed, .connectionLost: true
    case .server: isConflict || sqlState?.hasPrefix("08") == true
    case .busy: true
    case .invalidURL, .invalidSetting, .decode, .closed: false
    }
  }

  /// The server is out of reach (down, restarting, failing over, shutting connections): the
  /// statement says nothing about the work that sent it, which a worker runs again once the
  /// server is back instead of charging it an attempt.
  public var isOutage: Bool {
    switch kind {
    case .connectFailed, .connectionLost: true
    case .server: sqlState == "57P01" || sqlState == "57P02" || sqlState == "57P03" || sqlState?.hasPrefix("08") == true
    case .invalidURL, .invalidSetting, .decode, .closed, .busy: false
    }
  }

  public var description: String {
    switch kind {
    case .invalidURL: "invalid PostgreSQL URL: \(message)"
    case .invalidSetting: "invalid PostgreSQL setting: \(message)"
    case .connectFailed:
      "cannot connect to PostgreSQL: \(message) (check WHAGO_DATABASE_URL and that the server is running)"
    case .connectionLost: "lost the PostgreSQL connection: \(message)"
    case .server: "PostgreSQL error\(sqlState.map { " \($0)" } ?? ""): \(message)"
    case .decode: "unexpected PostgreSQL data: \(message)"
    case .closed: "the PostgreSQL pool is closed"
    case .busy: "every PostgreSQL connection is busy: \(message)"
    }
  }
}
