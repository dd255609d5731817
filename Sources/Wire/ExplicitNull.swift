/// An optional that is always on the wire: `nil` is written as `null` instead of leaving the key
/// out, which is what a synthesized `Encodable` does. API responses and `--json` output keep every
/// key, so a client or a script can tell "not yet" (`"started_at": null`) from a field that does
/// not exist.
@propertyWrapper
public struct ExplicitNull<Value> {
  public var wrappedValue: Value?

  public init(wrappedValue: Value?) {
    self.wrappedValue = wrappedValue
  }
}

extension ExplicitNull: Encodable where Value: Encodable {
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    if let wrappedValue {
      try container.encode(wrappedValue)
    } else {
      try container.encodeNil()
    }
  }
}

extension ExplicitNull: Sendable where Value: Sendable {}
extension ExplicitNull: Equatable where Value: Equatable {}

extension ExplicitNull: Decodable where Value: Decodable {
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    wrappedValue = container.decodeNil() ? nil : try container.decode(Value.self)
  }
}

/// Lets a decoder that reads columns rather than JSON (`PostgresRows`) fill an `ExplicitNull`:
/// it decodes the wrapped type, or nil for NULL, and the wrapper is built around that.
public protocol ExplicitNullDecodable {
  static func decoding(_ decode: (any Decodable.Type) throws -> (any Decodable)?) rethrows -> Self
}

extension ExplicitNull: ExplicitNullDecodable where Value: Decodable {
  public static func decoding(_ decode: (any Decodable.Type) throws -> (any Decodable)?) rethrows -> Self {
    Self(wrappedValue: try decode(Value.self) as? Value)
  }
}
