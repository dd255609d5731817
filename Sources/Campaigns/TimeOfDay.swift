/// A wall-clock time, `HH:mm`, in whatever timezone the tenant's window names.
public struct TimeOfDay: Sendable, Hashable, Comparable, CustomStringConvertible {
  /// Minutes since midnight; 1440 is `24:00`, the end of a window that runs to midnight.
  public let minutes: Int

  public var hour: Int { minutes / 60 }
  public var minute: Int { minutes % 60 }

  /// Reads `HH:mm` (`8:00` too), from `00:00` to `24:00`.
  public init?(_ text: String) {
    let parts = text.trimmed.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
      parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isWholeNumber } }),
      let hour = Int(parts[0]), let minute = Int(parts[1]),
      hour < 24 && minute < 60 || hour == 24 && minute == 0
    else { return nil }
    minutes = hour * 60 + minute
  }

  public var description: String {
    (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
  }

  public static func < (lhs: TimeOfDay, rhs: TimeOfDay) -> Bool { lhs.minutes < rhs.minutes }
}
