import Foundation
import JobQueue

/// A rate limit as jobs/catalog.json declares it: a bucket name with `{field}` placeholders filled
/// from the job's payload (and `{tenant}` from the job's tenant), and a capacity and refill rate,
/// each a number, a `{field}` of the payload, or a limit of the tenant's plan read at take time:
/// `{plan.monthly_credits}`, `{plan.api_requests_per_hour}/3600`, `1000/{plan.min_send_gap_ms}`.
///
///     "limits": [{"bucket": "chip:{chip_id}", "capacity": 1, "per_second": "1000/{plan.min_send_gap_ms}"}]
public struct LimitTemplate: Sendable, Equatable {
  public enum Value: Sendable, Equatable {
    case fixed(Double)
    case field(String)
    /// A plan limit, optionally divided by a number (`{plan.x}/n`) or dividing one (`n/{plan.x}`).
    case plan(String, divisor: Double, dividend: Double?)
  }

  /// True when the bucket's size or rate comes from the tenant's plan.
  public var needsPlan: Bool {
    [capacity, perSecond].contains { if case .plan = $0 { true } else { false } }
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

  /// The bucket this job takes from, or nil when the tenant's plan leaves this limit unlimited, or an
  /// error naming what is missing. `plan` maps limit names to values (nil: unlimited).
  public func resolve(payload: [String: Any], tenant: String? = nil, plan: [String: Double?]? = nil) throws(LimitError)
    -> TokenBucket?
  {
    var name = ""
    var rest = Substring(bucket)
    while let open = rest.firstIndex(of: "{") {
      name += rest[..<open]
      guard let close = rest[open...].firstIndex(of: "}") else {
        throw LimitError("bucket '\(bucket)' has an unclosed '{'")
      }
      let field = String(rest[rest.index(after: open)..<close])
      if field == "tenant" {
        guard let tenant, !tenant.isEmpty else { throw LimitError("bucket '\(bucket)' needs a job with a tenant") }
        name += tenant
      } else {
        guard let value = payload[field].flatMap(Self.text) else {
          throw LimitError("bucket '\(bucket)' needs payload field '\(field)'")
        }
        name += value
      }
      rest = rest[rest.index(after: close)...]
    }
    name += rest
    guard let capacity = try number(capacity, "capacity", payload, plan),
      let rate = try number(perSecond, "per_second", payload, plan)
    else { return nil }
    // A plan's capacity of 0 (no API, no maturation) still needs one token to hold one request: the
    // rate, then, is what refuses.
    let planned = if case .plan = self.capacity { true } else { false }
    return TokenBucket(name: name, capacity: planned ? max(capacity, 1) : capacity, refillPerSecond: rate)
  }

  /// The value, or nil for a plan limit that is unlimited.
  private func number(_ value: Value, _ label: String, _ payload: [String: Any], _ plan: [String: Double?]?)
    throws(LimitError) -> Double?
  {
    switch value {
    case .fixed(let number): return number
    case .field(let field):
      guard let number = payload[field] as? NSNumber, number.doubleValue >= 0 else {
        throw LimitError("\(label) of bucket '\(bucket)' needs a non-negative number in payload field '\(field)'")
      }
      return number.doubleValue
    case .plan(let field, let divisor, let dividend):
      guard let plan else { throw LimitError("\(label) of bucket '\(bucket)' needs the tenant's plan") }
      guard let entry = plan[field] else { throw LimitError("plans have no limit '\(field)' (bucket '\(bucket)')") }
      guard let limit = entry else { return nil }
      if let dividend { return limit > 0 ? dividend / limit : nil }
      return limit / divisor
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
    if let text, let plan = Self.planValue(text) { return plan }
    if let text, text.hasPrefix("{"), text.hasSuffix("}"), text.count > 2 {
      return .field(String(text.dropFirst().dropLast()))
    }
    throw LimitError(
      "\(label) must be a number, \"{payload_field}\", \"{plan.limit}\", \"{plan.limit}/N\" or \"N/{plan.limit}\"")
  }

  /// `{plan.x}`, `{plan.x}/n` or `n/{plan.x}`.
  static func planValue(_ text: String) -> LimitTemplate.Value? {
    let parts = text.split(separator: "/", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
    func field(_ part: String) -> String? {
      guard part.hasPrefix("{plan."), part.hasSuffix("}"), part.count > 7 else { return nil }
      return String(part.dropFirst(6).dropLast())
    }
    if parts.count == 1, let name = field(parts[0]) { return .plan(name, divisor: 1, dividend: nil) }
    if parts.count == 2, let name = field(parts[0]), let n = Double(parts[1]), n > 0 {
      return .plan(name, divisor: n, dividend: nil)
    }
    if parts.count == 2, let n = Double(parts[0]), n > 0, let name = field(parts[1]) {
      return .plan(name, divisor: 1, dividend: n)
    }
    return nil
  }
}
