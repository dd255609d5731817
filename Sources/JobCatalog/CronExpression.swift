import Foundation

/// A cron expression: `sec min hour day-of-month month day-of-week`, the seconds field optional
/// (five fields mean second 0). Fields take `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`,
/// lists `a,b`, and month and weekday names (`JAN`, `MON`). When both day fields are restricted a
/// day matching either runs, as in Vixie cron.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
  public let description: String
  let seconds: Set<Int>
  let minutes: Set<Int>
  let hours: Set<Int>
  let days: Set<Int>
  let months: Set<Int>
  let weekdays: Set<Int>
  let daysRestricted: Bool
  let weekdaysRestricted: Bool

  public init(_ text: String) throws(CronError) {
    let fields = text.split(whereSeparator: \.isWhitespace).map(String.init)
    guard fields.count == 5 || fields.count == 6 else {
      throw CronError("'\(text)': expected 5 or 6 fields (sec min hour day month weekday), got \(fields.count)")
    }
    let all = fields.count == 6 ? fields : ["0"] + fields
    description = text
    seconds = try Self.parse(all[0], 0...59, "second")
    minutes = try Self.parse(all[1], 0...59, "minute")
    hours = try Self.parse(all[2], 0...23, "hour")
    days = try Self.parse(all[3], 1...31, "day of month")
    months = try Self.parse(all[4], 1...12, "month", names: Self.monthNames)
    let dow = try Self.parse(all[5], 0...7, "day of week", names: Self.weekdayNames)
    weekdays = Set(dow.map { $0 % 7 })
    daysRestricted = all[3] != "*" && all[3] != "?"
    weekdaysRestricted = all[5] != "*" && all[5] != "?"
  }

  /// The first slot strictly after `date`, in `timeZone`; nil if none within about five years.
  public func next(after date: Date, in timeZone: TimeZone) -> Date? {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = timeZone
    var t = Date(timeIntervalSince1970: (date.timeIntervalSince1970).rounded(.down) + 1)
    for _ in 0..<200_000 {
      let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: t)
      guard let month = c.month, let day = c.day, let hour = c.hour, let minute = c.minute,
        let second = c.second, let weekday = c.weekday, let year = c.year
      else { return nil }
      if year > 9999 { return nil }
      if !months.contains(month) {
        t = calendar.date(from: DateComponents(year: year, month: month + 1, day: 1)) ?? t.addingTimeInterval(86_400)
        continue
      }
      if !dayMatches(day: day, weekday: weekday - 1) {
        t = calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: t)) ?? t.addingTimeInterval(86_400)
        continue
      }
      if !hours.contains(hour) {
        t = t.addingTimeInterval(Double(3600 - minute * 60 - second))
        continue
      }
      if !minutes.contains(minute) {
        t = t.addingTimeInterval(Double(60 - second))
        continue
      }
      if !seconds.contains(second) {
        t = t.addingTimeInterval(1)
        continue
      }
      return t
    }
    return nil
  }

  private func dayMatches(day: Int, weekday: Int) -> Bool {
    switch (daysRestricted, weekdaysRestricted) {
    case (true, true): days.contains(day) || weekdays.contains(weekday)
    case (true, false): days.contains(day)
    case (false, true): weekdays.contains(weekday)
    case (false, false): true
    }
  }

  static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    .enumerated().reduce(into: [String: Int]()) { $0[$1.element] = $1.offset + 1 }
  static let weekdayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
    .enumerated().reduce(into: [String: Int]()) { $0[$1.element] = $1.offset }

  private static func parse(_ field: String, _ range: ClosedRange<Int>, _ label: String, names: [String: Int] = [:])
    throws(CronError) -> Set<Int>
  {
    func value(_ text: Substring) throws(CronError) -> Int {
      if let n = Int(text), range.contains(n) { return n }
      if let n = names[text.uppercased()] { return n }
      throw CronError("\(label) '\(text)' is not in \(range.lowerBound)-\(range.upperBound)")
    }
    var result = Set<Int>()
    for part in field.split(separator: ",", omittingEmptySubsequences: false) {
      let pieces = part.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
      var step = 1
      if pieces.count == 2 {
        guard let s = Int(pieces[1]), s >= 1 else {
          throw CronError("\(label) step '\(pieces[1])' must be a positive number")
        }
        step = s
      }
      let base = pieces[0]
      let bounds: ClosedRange<Int>
      if base == "*" || base == "?" {
        bounds = range
      } else if let dash = base.firstIndex(of: "-") {
        let low = try value(base[..<dash])
        let high = try value(base[base.index(after: dash)...])
        guard low <= high else { throw CronError("\(label) range '\(base)' runs backwards") }
        bounds = low...high
      } else {
        let single = try value(base)
        bounds = pieces.count == 2 ? single...range.upperBound : single...single
      }
      result.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
    }
    guard !result.isEmpty else { throw CronError("\(label) '\(field)' matches nothing") }
    return result
  }
}

public struct CronError: Error, CustomStringConvertible, Sendable {
  public let description: String
  init(_ description: String) { self.description = description }
}
