import Foundation

/// The time cron schedules are read in. Normally Redis time itself; for tests and demos it can run
/// faster from a chosen start (`anchor=<Redis ms>,start=<ISO 8601 or ms>,speed=<x>`), so a day of
/// hourly slots passes in 24 seconds and "stopped for the night" takes a few seconds. Every
/// scheduler must be given the same clock: the anchor is absolute, so they agree on every slot.
public struct ScheduleClock: Sendable, Equatable {
  /// Redis ms at which schedule time equals `start`.
  public var anchor: Int64
  /// Schedule ms at `anchor`.
  public var start: Int64
  /// Schedule ms per Redis ms.
  public var speed: Double

  public static let redis = ScheduleClock(anchor: 0, start: 0, speed: 1)

  public init(anchor: Int64, start: Int64, speed: Double) {
    self.anchor = anchor
    self.start = start
    self.speed = speed
  }

  /// Reads `anchor=1796500000000,start=2026-12-01T00:00:00Z,speed=3600`.
  public init?(_ text: String) {
    var fields: [String: String] = [:]
    for part in text.split(separator: ",") {
      let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      guard pair.count == 2 else { return nil }
      fields[pair[0]] = pair[1]
    }
    guard let anchor = fields["anchor"].flatMap({ Int64($0) }), let speed = fields["speed"].flatMap(Double.init),
      speed > 0, speed.isFinite, let startText = fields["start"]
    else { return nil }
    var start = Int64(startText)
    if start == nil, let date = ISO8601DateFormatter().date(from: startText) {
      start = Int64(date.timeIntervalSince1970 * 1000)
    }
    guard let start else { return nil }
    self.init(anchor: anchor, start: start, speed: speed)
  }

  public var isRedisTime: Bool { self == .redis }

  /// Schedule time at Redis time `redis`.
  public func scheduleTime(redis: Int64) -> Int64 {
    isRedisTime ? redis : start + Int64((Double(redis - anchor) * speed).rounded(.down))
  }

  /// Now on this clock, from Redis's `TIME`: what jobs compare windows and due dates against.
  public func now(on broker: Broker) async throws -> Date {
    Date(timeIntervalSince1970: Double(scheduleTime(redis: try await broker.redisTime())) / 1000)
  }

  /// The Redis time at which schedule time reaches `schedule` (never earlier).
  public func redisTime(schedule: Int64) -> Int64 {
    isRedisTime ? schedule : anchor + Int64((Double(schedule - start) / speed).rounded(.up))
  }
}
