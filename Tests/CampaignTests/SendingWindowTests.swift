import Campaigns
import Foundation
import Testing

@Suite struct SendingWindowTests {
  func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }
  func text(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

  @Test func saoPauloDefaultWindow() throws {
    let window = try SendingWindow()  // 08:00–20:00, Monday to Saturday, America/Sao_Paulo (UTC-3)
    #expect(!window.contains(date("2026-11-30T10:59:59Z")))  // Monday 07:59:59
    #expect(window.contains(date("2026-11-30T11:00:00Z")))  // Monday 08:00
    #expect(window.contains(date("2026-11-30T22:59:59Z")))  // Monday 19:59:59
    #expect(!window.contains(date("2026-11-30T23:00:00Z")))  // Monday 20:00
    #expect(window.contains(date("2026-11-28T15:00:00Z")))  // Saturday 12:00
    #expect(!window.contains(date("2026-11-29T15:00:00Z")))  // Sunday 12:00
  }

  @Test func nextStartOverTheWeekend() throws {
    let window = try SendingWindow()
    // Saturday 20:30 and Sunday 10:00 in São Paulo -> Monday 08:00 (11:00 UTC).
    #expect(text(window.nextStart(after: date("2026-11-28T23:30:00Z"))) == "2026-11-30T11:00:00Z")
    #expect(text(window.nextStart(after: date("2026-11-29T13:00:00Z"))) == "2026-11-30T11:00:00Z")
    // Friday after hours -> Saturday 08:00.
    #expect(text(window.nextStart(after: date("2026-11-27T23:30:00Z"))) == "2026-11-28T11:00:00Z")
  }

  @Test func nextStartIsTheNextOpening() throws {
    let window = try SendingWindow()
    // Monday 05:00 -> the same day 08:00; Monday 10:00 (inside) -> Tuesday 08:00.
    #expect(text(window.nextStart(after: date("2026-11-30T08:00:00Z"))) == "2026-11-30T11:00:00Z")
    #expect(text(window.nextStart(after: date("2026-11-30T13:00:00Z"))) == "2026-12-01T11:00:00Z")
    #expect(text(window.nextStart(after: date("2026-11-30T11:00:00Z"))) == "2026-12-01T11:00:00Z")
  }

  @Test func earliestSendIsNowInsideTheWindow() throws {
    let window = try SendingWindow()
    let inside = date("2026-11-30T13:00:00Z")
    #expect(window.earliestSend(from: inside) == inside)
    #expect(text(window.earliestSend(from: date("2026-11-29T13:00:00Z"))) == "2026-11-30T11:00:00Z")
  }

  @Test func oneInstantInDifferentTimezones() throws {
    let instant = date("2026-11-30T11:30:00Z")  // Monday
    #expect(try SendingWindow(timeZone: "America/Sao_Paulo").contains(instant))  // 08:30
    #expect(try !SendingWindow(timeZone: "Asia/Tokyo").contains(instant))  // 20:30
    #expect(try !SendingWindow(timeZone: "America/Manaus").contains(instant))  // 07:30
    #expect(try SendingWindow(timeZone: "Europe/Lisbon").contains(instant))  // 11:30
  }

  @Test func daylightSavingTimeIsTheZones() throws {
    let newYork = try SendingWindow(timeZone: "America/New_York", start: "09:00", end: "17:00", days: Set(1...7))
    #expect(!newYork.contains(date("2026-03-06T13:30:00Z")))  // Friday 08:30 EST
    #expect(newYork.contains(date("2026-03-06T14:30:00Z")))  // Friday 09:30 EST
    #expect(newYork.contains(date("2026-03-09T13:30:00Z")))  // Monday 09:30 EDT
    #expect(!newYork.contains(date("2026-03-09T21:30:00Z")))  // Monday 17:30 EDT
    // Clocks spring forward on Sunday 2026-03-08: Saturday opens at 14:00 UTC, Sunday at 13:00 UTC.
    #expect(text(newYork.nextStart(after: date("2026-03-06T23:00:00Z"))) == "2026-03-07T14:00:00Z")
    #expect(text(newYork.nextStart(after: date("2026-03-07T23:00:00Z"))) == "2026-03-08T13:00:00Z")
    // And fall back on Sunday 2026-11-01.
    #expect(text(newYork.nextStart(after: date("2026-10-31T22:00:00Z"))) == "2026-11-01T14:00:00Z")
  }

  @Test func aStartInsideTheSpringForwardGapMovesWithTheClocks() throws {
    let night = try SendingWindow(timeZone: "America/New_York", start: "02:30", end: "05:00", days: Set(1...7))
    // 02:30 does not exist on 2026-03-08: the window opens at 03:30 EDT, moved by the gap.
    let opening = night.nextStart(after: date("2026-03-08T05:00:00Z"))
    #expect(text(opening) == "2026-03-08T07:30:00Z")
    #expect(night.contains(opening))
  }

  @Test func badSettingsSayWhatIsWrong() throws {
    #expect(throws: SendingWindowError.unknownTimeZone("Brasil/Sampa")) { try SendingWindow(timeZone: "Brasil/Sampa") }
    #expect(throws: SendingWindowError.invalidTime("25:00")) { try SendingWindow(end: "25:00") }
    #expect(throws: SendingWindowError.invalidTime("8h")) { try SendingWindow(start: "8h") }
    #expect(throws: SendingWindowError.invalidTime("24:00")) { try SendingWindow(start: "24:00") }
    #expect(throws: SendingWindowError.endNotAfterStart(start: "22:00", end: "06:00")) {
      try SendingWindow(start: "22:00", end: "06:00")
    }
    #expect(throws: SendingWindowError.noDays) { try SendingWindow(days: []) }
    #expect(throws: SendingWindowError.invalidDay(0)) { try SendingWindow(days: [0, 1]) }
    #expect(try SendingWindow(start: "8:00", end: "24:00").end.description == "24:00")
  }
}
