import Foundation

/// How Docker writes times and ages, so the simulator's answers read like the engine's.
enum DockerText {
  /// Go's zero time, which Docker writes for "never" (`FinishedAt` of a container never stopped).
  static let zeroTime = "0001-01-01T00:00:00Z"

  /// RFC 3339 with nine fractional digits, in UTC: `2024-05-01T12:00:00.123456789Z`.
  static func timestamp(_ date: Date?) -> String {
    guard let date else { return zeroTime }
    let seconds = date.timeIntervalSince1970.rounded(.down)
    let nanoseconds = Int(((date.timeIntervalSince1970 - seconds) * 1e9).rounded())
    let whole = Date(timeIntervalSince1970: seconds).formatted(.iso8601)
    let withoutZone = whole.hasSuffix("Z") ? String(whole.dropLast()) : whole
    return withoutZone + "." + String(format: "%09d", min(nanoseconds, 999_999_999)) + "Z"
  }

  /// Docker's `units.HumanDuration`: "Less than a second", "5 seconds", "About a minute", "3 hours".
  static func humanDuration(_ interval: TimeInterval) -> String {
    let seconds = Int(interval)
    switch seconds {
    case ..<1: return "Less than a second"
    case 1: return "1 second"
    case ..<60: return "\(seconds) seconds"
    default: break
    }
    let minutes = seconds / 60
    switch minutes {
    case 1: return "About a minute"
    case ..<60: return "\(minutes) minutes"
    default: break
    }
    let hours = Int((Double(seconds) / 3600).rounded())
    switch hours {
    case 1: return "About an hour"
    case ..<48: return "\(hours) hours"
    case ..<(24 * 7 * 2): return "\(hours / 24) days"
    case ..<(24 * 30 * 2): return "\(hours / 24 / 7) weeks"
    case ..<(24 * 365 * 2): return "\(hours / 24 / 30) months"
    default: return "\(hours / 24 / 365) years"
    }
  }
}
