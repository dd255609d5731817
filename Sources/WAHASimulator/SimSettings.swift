import Foundation
import Wire

/// The knobs a test turns while the simulator runs (`POST /_sim/config`): latency, fault rates and
/// the timing of the things WAHA does later on its own (a session starting, acks arriving).
public struct SimSettings: Sendable, Equatable {
  /// Added before every `/api` answer.
  public var latency: Duration = .milliseconds(20)
  /// Each `/api` request, independently: held for `timeoutHold` then answered 500 (after carrying it
  /// out, for `timeoutAfterSendRate` of them) ...
  public var timeoutRate = 0.0
  /// ... answered 500 with an engine failure ...
  public var failRate = 0.0
  /// ... or answered 429.
  public var rateLimitRate = 0.0
  /// After an accepted send, the session falls to FAILED (until restarted).
  public var dropRate = 0.0
  /// Of the timeouts, the fraction that come after the request was carried out (a send is logged and
  /// acked; only the answer is lost), as with a real WAHA whose engine sent the message and then
  /// wedged: the case where a retry sends twice unless it first looks in the chat.
  public var timeoutAfterSendRate = 0.5
  /// Longer than any client's timeout, so the client gives up first, as it would with a wedged WAHA.
  public var timeoutHold: Duration = .seconds(30)
  /// How long a session stays STARTING before it goes on (to WORKING, or to SCAN_QR_CODE).
  public var startDelay: Duration = .milliseconds(200)
  /// A session that has never been logged in waits in SCAN_QR_CODE after STARTING until it is scanned
  /// (`POST /_sim/sessions/{s}/scan`), as a new WhatsApp number does; false: it goes straight to
  /// WORKING, which most tests want.
  public var requireScan = false
  /// When `message.ack` 1 (SERVER), 2 (DEVICE) and 3 (READ) follow an accepted send; empty: no acks.
  public var ackDelays: [Duration] = [.milliseconds(50), .milliseconds(100), .milliseconds(200)]

  public init() {}

  /// What one `/api` request suffers: one roll, split by the rates, so they never overlap.
  enum Fault: Equatable { case timeout, failure, rateLimit }

  func rollFault(_ roll: Double = Double.random(in: 0..<1)) -> Fault? {
    if roll < timeoutRate { return .timeout }
    if roll < timeoutRate + failRate { return .failure }
    if roll < timeoutRate + failRate + rateLimitRate { return .rateLimit }
    return nil
  }

  func rollDrop() -> Bool {
    dropRate > 0 && Double.random(in: 0..<1) < dropRate
  }

  /// Whether this timeout comes after the request was carried out.
  func rollTimeoutAfterSend() -> Bool {
    timeoutAfterSendRate > 0 && Double.random(in: 0..<1) < timeoutAfterSendRate
  }

  /// The fields `/_sim/config` reads and answers, in milliseconds and fractions.
  var json: JSONValue {
    [
      "latency_ms": JSONValue(latency.milliseconds), "timeout_rate": .double(timeoutRate),
      "fail_rate": .double(failRate),
      "rate_limit_rate": .double(rateLimitRate), "drop_rate": .double(dropRate),
      "timeout_after_send_rate": .double(timeoutAfterSendRate),
      "timeout_hold_ms": JSONValue(timeoutHold.milliseconds), "start_delay_ms": JSONValue(startDelay.milliseconds),
      "ack_delays_ms": .array(ackDelays.map { JSONValue($0.milliseconds) }), "require_scan": .bool(requireScan),
    ]
  }

  /// Applies the fields present in `patch`; the others keep their values. Every problem is reported,
  /// and nothing changes unless the whole patch is valid.
  mutating func apply(_ patch: JSONValue) throws(SimulatedWAHAError) {
    guard case .object(let fields) = patch else { throw .validation(["body must be a JSON object"]) }
    var next = self
    var problems: [String] = []
    func rate(_ key: String, _ target: inout Double) {
      guard let value = fields[key] else { return }
      guard let number = value.number, (0...1).contains(number) else {
        problems.append("\(key) must be a number from 0 to 1")
        return
      }
      target = number
    }
    func duration(_ value: JSONValue?, _ key: String) -> Duration? {
      guard let value else { return nil }
      guard let number = value.number, number >= 0, number <= 3_600_000 else {
        problems.append("\(key) must be milliseconds from 0 to 3600000")
        return nil
      }
      return .milliseconds(Int64(number))
    }
    rate("timeout_rate", &next.timeoutRate)
    rate("fail_rate", &next.failRate)
    rate("rate_limit_rate", &next.rateLimitRate)
    rate("drop_rate", &next.dropRate)
    rate("timeout_after_send_rate", &next.timeoutAfterSendRate)
    if let value = duration(fields["latency_ms"], "latency_ms") { next.latency = value }
    if let value = duration(fields["timeout_hold_ms"], "timeout_hold_ms") { next.timeoutHold = value }
    if let value = duration(fields["start_delay_ms"], "start_delay_ms") { next.startDelay = value }
    if let value = fields["ack_delays_ms"] {
      if let items = value.array {
        next.ackDelays = items.enumerated().compactMap { duration($1, "ack_delays_ms[\($0)]") }
      } else {
        problems.append("ack_delays_ms must be an array of milliseconds (SERVER, DEVICE, READ)")
      }
    }
    if let value = fields["require_scan"] {
      if case .bool(let flag) = value {
        next.requireScan = flag
      } else {
        problems.append("require_scan must be true or false")
      }
    }
    let known: Set = [
      "latency_ms", "timeout_rate", "timeout_after_send_rate", "fail_rate", "rate_limit_rate", "drop_rate",
      "timeout_hold_ms", "start_delay_ms", "ack_delays_ms", "require_scan",
    ]
    for key in fields.keys.sorted() where !known.contains(key) {
      problems.append("unknown field \(key); known: \(known.sorted().joined(separator: ", "))")
    }
    if next.ackDelays.count > 3 { problems.append("ack_delays_ms takes at most 3 delays (SERVER, DEVICE, READ)") }
    if next.timeoutRate + next.failRate + next.rateLimitRate > 1 {
      problems.append("timeout_rate + fail_rate + rate_limit_rate must not exceed 1")
    }
    guard problems.isEmpty else { throw .validation(problems) }
    self = next
  }
}

extension Duration {
  var milliseconds: Int {
    let (seconds, attoseconds) = components
    return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
  }
}
