import Foundation
import JobCatalog
import Testing

@Suite struct CronExpressionTests {
  let utc = TimeZone(identifier: "UTC")!
  let saoPaulo = TimeZone(identifier: "America/Sao_Paulo")!

  func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }
  func text(_ date: Date?) -> String? { date.map { ISO8601DateFormatter().string(from: $0) } }

  @Test func fiveFieldsMeanSecondZero() throws {
    let cron = try CronExpression("*/15 * * * *")
    #expect(text(cron.next(after: date("2026-11-29T10:07:30Z"), in: utc)) == "2026-11-29T10:15:00Z")
    #expect(text(cron.next(after: date("2026-11-29T10:45:00Z"), in: utc)) == "2026-11-29T11:00:00Z")
  }

  @Test func secondsFieldAndSteps() throws {
    let cron = try CronExpression("*/10 * * * * *")
    #expect(text(cron.next(after: date("2026-11-29T10:00:00Z"), in: utc)) == "2026-11-29T10:00:10Z")
    #expect(text(cron.next(after: date("2026-11-29T10:00:55Z"), in: utc)) == "2026-11-29T10:01:00Z")
  }

  @Test func businessHoursInTheTenantsTimezone() throws {
    // 09:00 Monday to Saturday in São Paulo (UTC-3): 12:00 UTC.
    let cron = try CronExpression("0 0 9 * * MON-SAT")
    // Saturday 2026-11-28 after 09:00 local -> Monday 2026-11-30 09:00 local.
    #expect(text(cron.next(after: date("2026-11-28T13:00:00Z"), in: saoPaulo)) == "2026-11-30T12:00:00Z")
  }

  @Test func dayOfMonthOrWeekdayWhenBothAreRestricted() throws {
    let cron = try CronExpression("0 0 1 * MON")  // the 1st of the month, and every Monday
    #expect(text(cron.next(after: date("2026-11-26T00:00:00Z"), in: utc)) == "2026-11-30T00:00:00Z")
    #expect(text(cron.next(after: date("2026-11-30T00:00:00Z"), in: utc)) == "2026-12-01T00:00:00Z")
  }

  @Test func monthBoundariesAndLeapDays() throws {
    let cron = try CronExpression("0 12 29 FEB *")
    #expect(text(cron.next(after: date("2026-03-01T00:00:00Z"), in: utc)) == "2028-02-29T12:00:00Z")
  }

  @Test func invalidExpressionsSayWhatIsWrong() {
    for bad in ["* * *", "61 * * * *", "* * * * * * *", "*/0 * * * *", "5-1 * * * *", "* * * FOO *"] {
      #expect(throws: CronError.self, "\(bad)") { try CronExpression(bad) }
    }
  }
}
