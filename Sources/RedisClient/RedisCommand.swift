/// One Redis command as binary-safe arguments. Built with arguments, never a format string.
public struct RedisCommand: Sendable {
  public var arguments: [[UInt8]]
  /// On Redis Cluster, the key whose node runs a command that names no key itself (`WAIT` after a
  /// queue's writes, `SCAN` for keys of one hash tag). Ignored by a single server.
  public var route: [UInt8]?

  public init(_ name: String, _ arguments: [String] = []) {
    self.arguments = [Array(name.utf8)] + arguments.map { Array($0.utf8) }
  }

  public init(_ name: String, _ arguments: String...) {
    self.init(name, arguments)
  }

  public init(bytes: [[UInt8]]) {
    self.arguments = bytes
  }

  /// The same command, run on the cluster node that holds `key`.
  public func routed(by key: String) -> RedisCommand {
    var command = self
    command.route = Array(key.utf8)
    return command
  }
}
