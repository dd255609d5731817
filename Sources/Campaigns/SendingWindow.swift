import Foundation

/// The hours a tenant's campaigns may send in, on the tenant's own clock: by default 08:00 to
/// 20:00, Monday to Saturday, in São Paulo. Sending in packages by day and never around the clock
/// is part of looking like a person (WAHA's advice), and a message at 3 a.m. earns spam reports.
///
/// The window is `[start, end)` in local wall-clock time on the listed ISO days (1 = Monday …
/// 7 = Sunday). Daylight saving time is the timezone's: a start that falls in a spring-forward gap
/// moves forward by the gap, as the clocks did (02:30 opens at 03:30).
public struct SendingWindow: Sendable, Hashable {
  public let timeZone: TimeZone
  public let start: TimeOfDay
  public let end: TimeOfDay
  /// ISO weekdays: 1 = Monday … 7 = Sunday.
  public let days: Set<Int>

  public init(
    timeZone identifier: String = "America/Sao_Paulo", start: String = "08:00", end: String = "20:00",
    days: Set<Int> = [1, 2, 3, 4, 5, 6]
  ) throws(SendingWindowError) {
    guard let timeZone = TimeZone(identifier: identifier) else { throw .unknownTimeZone(identifier) }
    guard let opening = TimeOfDay(start), opening.minutes < 24 * 60 else { throw .invalidTime(start) }
    guard let closing = TimeOfDay(end) else { throw .invalidTime(end) }
    guard opening < closing else { throw .endNotAfterStart(start: start, end: end) }
    guard !days.isEmpty else { throw .noDays }
    if let day = days.first(where: { !(1...7).contains($0) }) { throw .invalidDay(day) }
    self.timeZone = timeZone
    self.start = opening
    self.end = closing
    self.days = days
  }

  /// Whether a message may go out at `date`.
  public func contains(_ date: Date) -> Bool {
    let local = calendar.dateComponents([.weekday, .hour, .minute], from: date)
    guard let weekday = local.weekday, let hour = local.hour, let minute = local.minute else { return false }
    let minutes = hour * 60 + minute
    return days.contains(Self.isoWeekday(weekday)) && start.minutes <= minutes && minutes < end.minutes
  }

  /// The first opening of the window strictly after `date`: when a message held back outside the
  /// window (or at its end) may go.
  public func nextStart(after date: Date) -> Date {
    let calendar = calendar
    var today = calendar.dateComponents([.year, .month, .day], from: date)
    today.hour = 12  // noon exists on every day, whatever DST does around midnight
    guard let noonToday = calendar.date(from: today) else { return date }
    for offset in 0...7 {
      guard let noon = calendar.date(byAdding: .day, value: offset, to: noonToday),
        days.contains(Self.isoWeekday(calendar.component(.weekday, from: noon))),
        let opening = opening(on: noon, in: calendar), opening > date
      else { continue }
      return opening
    }
    // Unreachable with at least one day: the same weekday a week later is always after `date`.
    return date
  }

  /// `date` itself inside the window, else its next opening: when a message due at `date` may go.
  public func earliestSend(from date: Date) -> Date {
    contains(date) ? date : nextStart(after: date)
  }

  private var calendar: Calendar {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = timeZone
    return calendar
  }

  private func opening(on day: Date, in calendar: Calendar) -> Date? {
    var components = calendar.dateComponents([.year, .month, .day], from: day)
    components.hour = start.hour
    components.minute = start.minute
    return calendar.date(from: components)
  }

  /// Foundation counts 1 = Sunday; ISO 8601 and the tenant's settings count 1 = Monday.
  private static func isoWeekday(_ foundationWeekday: Int) -> Int { (foundationWeekday + 5) % 7 + 1 }
}
