import Foundation
import JobQueue

/// A rate limit as jobs/catalog.json declares it: a bucket name with `{field}` placeholders filled
/// from the job's payload, and a capacity and refill rate, each a number or a `{field}` of the payload.
///
///     "limits": [{"bucket": "chip:{chip_id}:minute", "capacity": 20, "per_second": 0.33}]
public struct LimitTemplate: Sendable, Equatable {
  public enum Value: Sendable, Equatable {
    case fixed(Double)
    case field(String)
  }

  public var bucket: String
  public var capacity: Value
  public var perSecond: Value

  init(bucket: String, capacity: LimitValueFile, perSecond: LimitValueFile) throws(LimitError) {
    guard !bucket.isEmpty else { throw LimitError("a limit needs a bucket name") }
    self.bucket = bucket
    self.capacity = try capacity.value(named: "capacity")
    self.perSecond = try perSecond.value(named: "per_second")
  }

  /// The bucket this job takes from, or an error naming the payload field that is missing.
  public func resolve(payload: [String: Any]) throws(LimitError) -> TokenBucket {
    var name = ""
    var rest = Substring(bucket)
    while let open = rest.firstIndex(of: "{") {
      name += rest[..<open]
      guard let close = rest[open...].firstIndex(of: "}") else {
        throw LimitError("bucket '\(bucket)' has an unclosed '{'")
      }
      let field = String(rest[rest.index(after: open)..<close])
      guard let value = payload[field].flatMap(Self.text) else {
        throw LimitError("bucket '\(bucket)' needs payload field '\(field)'")
      }
      name += value
      rest = rest[rest.index(after: close)...]
    }
    name += rest
    return TokenBucket(
      name: name, capacity: try number(capacity, "capacity", payload),
      refillPerSecond: try number(perSecond, "per_second", payload))
  }

  private func number(_ value: Value, _ label: String, _ payload: [String: Any]) throws(LimitError) -> Double {
    switch value {
    case .fixed(let number): return number
    case .field(let field):
      guard let number = payload[field] as? NSNumber, number.doubleValue >= 0 else {
        throw LimitError("\(label) of bucket '\(bucket)' needs a non-negative number in payload field '\(field)'")
      }
      return number.doubleValue
    }
  }

  private static func text(_ value: Any) -> String? {
    switch value {
    case let string as String: string
    case let number as NSNumber: number.stringValue
    default: nil
    }
  }
}

public struct LimitError: Error, CustomStringConvertible, Sendable {
  public let description: String
  init(_ description: String) { self.description = description }
}

/// A number, or a string naming a payload field as `{field}`.
struct LimitValueFile: Decodable {
  var number: Double?
  var text: String?

  init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if let number = try? container.decode(Double.self) {
      self.number = number
    } else {
      text = try container.decode(String.self)
    }
  }

  func value(named label: String) throws(LimitError) -> LimitTemplate.Value {
    if let number {
      guard number >= 0 else { throw LimitError("\(label) must not be negative") }
      return .fixed(number)
    }
    if let text, text.hasPrefix("{"), text.hasSuffix("}"), text.count > 2 {
      return .field(String(text.dropFirst().dropLast()))
    }
    throw LimitError("\(label) must be a number or \"{payload_field}\"")
  }
}
