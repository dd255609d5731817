/// One Redis command as binary-safe arguments. Built with arguments, never a format string.
public struct RedisCommand: Sendable {
  public var arguments: [[UInt8]]

  public init(_ name: String, _ arguments: [String] = []) {
    self.arguments = [Array(name.utf8)] + arguments.map { Array($0.utf8) }
  }

  public init(_ name: String, _ arguments: String...) {
    self.init(name, arguments)
  }

  public init(bytes: [[UInt8]]) {
    self.arguments = bytes
  }
}
