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

  public mutating func append(_ argument: String) {
    arguments.append(Array(argument.utf8))
  }

  /// The command name, for error messages (never the arguments, which may hold secrets).
  public var name: String {
    arguments.first.map { String(decoding: $0, as: UTF8.self).uppercased() } ?? ""
  }
}
