/// A decoded Redis reply. Bulk strings stay bytes so binary payloads survive untouched.
public enum RedisValue: Sendable, Equatable {
  case null
  case integer(Int64)
  case bulk([UInt8])
  case status(String)
  case error(String)
  case array([RedisValue])

  /// The reply as text, for bulk strings and status replies.
  public var string: String? {
    switch self {
    case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
    case .status(let s): s
    case .integer(let i): String(i)
    default: nil
    }
  }

  /// The reply as an integer, accepting integer replies and numeric strings.
  public var int: Int64? {
    switch self {
    case .integer(let i): i
    case .bulk, .status: string.flatMap { Int64($0) }
    default: nil
    }
  }

  /// A replica's refusal of a write (`-READONLY …`).
  var isReadOnlyError: Bool {
    if case .error(let message) = self { return message.hasPrefix("READONLY") }
    return false
  }

  public var array: [RedisValue]? {
    if case .array(let items) = self { return items }
    return nil
  }

  public var isNull: Bool { self == .null }
}
