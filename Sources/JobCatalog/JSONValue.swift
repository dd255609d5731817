import Foundation

/// Any JSON value: request bodies checked field by field with precise errors, and payloads (a
/// submission's, a schedule's) re-encoded exactly as values, numbers keeping their integer form.
public enum JSONValue: Codable, Sendable, Equatable {
  case null
  case bool(Bool)
  case int(Int64)
  case double(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  public init(from decoder: any Decoder) throws {
    let c = try decoder.singleValueContainer()
    if c.decodeNil() {
      self = .null
    } else if let b = try? c.decode(Bool.self) {
      self = .bool(b)
    } else if let i = try? c.decode(Int64.self) {
      self = .int(i)
    } else if let d = try? c.decode(Double.self) {
      self = .double(d)
    } else if let s = try? c.decode(String.self) {
      self = .string(s)
    } else if let a = try? c.decode([JSONValue].self) {
      self = .array(a)
    } else {
      self = .object(try c.decode([String: JSONValue].self))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    switch self {
    case .null: try c.encodeNil()
    case .bool(let b): try c.encode(b)
    case .int(let i): try c.encode(i)
    case .double(let d): try c.encode(d)
    case .string(let s): try c.encode(s)
    case .array(let a): try c.encode(a)
    case .object(let o): try c.encode(o)
    }
  }

  /// The JSON type's name, for error messages.
  public var kind: String {
    switch self {
    case .null: "null"
    case .bool: "a boolean"
    case .int, .double: "a number"
    case .string: "a string"
    case .array: "an array"
    case .object: "an object"
    }
  }

  /// Parses with JSONSerialization and converts without throwing per value: decoding `JSONValue`
  /// through Codable tried each type in turn and spent most of a batch request building errors.
  public static func parse(_ bytes: some Collection<UInt8>) throws(JSONParseError) -> JSONValue {
    if bytes.isEmpty { throw JSONParseError(reason: "the body is empty; send a JSON object") }
    let object: Any
    do {
      object = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    } catch {
      let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
      throw JSONParseError(reason: reason ?? "the body is not valid JSON")
    }
    return JSONValue(serialized: object)
  }

  private init(serialized value: Any) {
    switch value {
    case let text as String: self = .string(text)
    case let number as NSNumber:
      // JSONSerialization gives booleans as NSNumber too; their type code is "c".
      switch String(cString: number.objCType) {
      case "c": self = .bool(number.boolValue)
      case "d", "f": self = .double(number.doubleValue)
      default: self = .int(number.int64Value)
      }
    case let array as [Any]: self = .array(array.map(JSONValue.init(serialized:)))
    case let object as [String: Any]: self = .object(object.mapValues(JSONValue.init(serialized:)))
    default: self = .null
    }
  }

  public func text() -> String {
    (try? JSONValue.encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
  }

  private static let encoder: JSONEncoder = {
    let e = JSONEncoder()
    e.outputFormatting = [.withoutEscapingSlashes]
    return e
  }()
}

/// Text that is not JSON, with the parser's reason.
public struct JSONParseError: Error, Sendable, CustomStringConvertible {
  public let reason: String
  public var description: String { reason }
}
