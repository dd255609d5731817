import Foundation

/// Any JSON value, the one such type of the package: request bodies checked field by field with
/// precise errors, payloads re-encoded exactly as values (numbers keep their integer form), and
/// the simulators' shapes, which they echo back as they received them.
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

  public subscript(key: String) -> JSONValue? {
    if case .object(let fields) = self { return fields[key] }
    return nil
  }

  public var string: String? {
    if case .string(let value) = self { return value }
    return nil
  }

  public var array: [JSONValue]? {
    if case .array(let items) = self { return items }
    return nil
  }

  /// A number whether it was written as an integer or not.
  public var number: Double? {
    switch self {
    case .int(let value): Double(value)
    case .double(let value): value
    default: nil
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
      case "d", "f":
        // 54.0 is an integer to JSON Schema (and so to the API's document): read it as one.
        // JSONSerialization on Linux gives long negative literals as exact decimals: within
        // Int64 they are integers to the last digit; beyond it (-9223372036854775809) they are
        // no integer we can hold, where int64Value would quietly clamp them into range.
        if let decimal = number as? NSDecimalNumber {
          self = Int64(decimal.stringValue).map(JSONValue.int) ?? .double(number.doubleValue)
          return
        }
        let value = number.doubleValue
        if value.rounded() == value, value > -0x1p63, value < 0x1p63 {
          self = .int(Int64(value))
        } else {
          self = .double(value)
        }
      case "Q", "L":
        // Unsigned: from 2^63 up, int64Value would wrap 9223372036854775808 to a negative number
        // that passes for a valid one. Past Int64 it is a double, as JSON has it.
        let unsigned = number.uint64Value
        self = unsigned > UInt64(Int64.max) ? .double(number.doubleValue) : .int(Int64(unsigned))
      default: self = .int(number.int64Value)
      }
    case let array as [Any]: self = .array(array.map(JSONValue.init(serialized:)))
    case let object as [String: Any]: self = .object(object.mapValues(JSONValue.init(serialized:)))
    default: self = .null
    }
  }

  /// The value as JSON text, keys sorted (so the same value always reads the same).
  public func text() -> String { String(decoding: encoded(), as: UTF8.self) }

  public func encoded() -> Data {
    // Encoding a JSON value cannot fail: every case maps onto an encodable primitive.
    (try? JSONValue.encoder.encode(self)) ?? Data("null".utf8)
  }

  private static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }()
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
  ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
  public init(stringLiteral value: String) { self = .string(value) }
  public init(integerLiteral value: Int64) { self = .int(value) }
  public init(floatLiteral value: Double) { self = .double(value) }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
  public init(dictionaryLiteral elements: (String, JSONValue)...) {
    self = .object(Dictionary(elements) { _, last in last })
  }
  public init(nilLiteral: ()) { self = .null }
}

extension JSONValue {
  public init(_ value: String?) { self = value.map { .string($0) } ?? .null }
  public init(_ value: Int) { self = .int(Int64(value)) }
  public init(_ value: Bool) { self = .bool(value) }
}

/// Text that is not JSON, with the parser's reason.
public struct JSONParseError: Error, Sendable, CustomStringConvertible {
  public let reason: String
  public var description: String { reason }
}
