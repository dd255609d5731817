import Campaigns
import Foundation
import JobCatalog
import JobContracts
import JobQueue
import Logging
import Maturation
import MaturationStore
import Store
import Worker

/// `maturation.tick`, on a cron schedule: for every live program, fixes today's quota (once) and
/// plans today's remaining warm-up messages as delayed `maturation.exchange` jobs, inside the
/// program's window on the tenant's clock. Ticks may overlap or run twice: the database refuses a
/// message past the day's quota, and each planned message is one job (keyed by its row).
public struct MaturationTick: JobHandler {
  public typealias Contract = MaturationTickJob

  let store: Store
  let catalog: JobCatalog
  let clock: ScheduleClock
  let phrases: PhraseBank
  /// No message is planned closer than this to the window's end, so a late run still lands inside.
  let closingMargin: TimeInterval = 30 * 60

  public func run(_ parameters: MaturationTickJob.Parameters, context: JobContext) async throws {
    let now = try await clock.now(on: context.broker)
    var planned = 0
    for program in try await store.livePrograms(now: now) {
      do {
        planned += try await plan(program, now: now, context: context)
      } catch {
        context.logger.error(
          "cannot plan a maturation program", metadata: ["program": "\(program.id)", "error": "\(error)"])
      }
    }
    if planned > 0 { context.logger.info("maturation planned", metadata: ["messages": "\(planned)"]) }
  }

  private func plan(_ program: MaturationProgram, now: Date, context: JobContext) async throws -> Int {
    let window = try SendingWindow(
      timeZone: program.timezone, start: String(program.windowStart.prefix(5)),
      end: String(program.windowEnd.prefix(5)), days: Set(program.windowDays))
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = window.timeZone
    let today = calendar.startOfDay(for: now)
    let localDate = Self.localDate(today, calendar)
    let day = (calendar.dateComponents([.day], from: calendar.startOfDay(for: program.startAt), to: today).day ?? 0) + 1
    if day > program.days {
      try await store.completeMaturation(id: program.id)
      return 0
    }
    let isoWeekday = (calendar.component(.weekday, from: today) + 5) % 7 + 1
    guard window.days.contains(isoWeekday) else {
      try await store.recordMaturationSkip(
        programID: program.id, localDate: localDate, reason: "outside_window", chipID: nil,
        detail: "no warm-up on this weekday")
      return 0
    }
    guard
      let opens = calendar.date(bySettingHour: window.start.hour, minute: window.start.minute, second: 0, of: today),
      let closes = window.end.minutes >= 24 * 60
        ? calendar.date(byAdding: .day, value: 1, to: today)
        : calendar.date(bySettingHour: window.end.hour, minute: window.end.minute, second: 0, of: today)
    else { return 0 }
    let until = closes.addingTimeInterval(-closingMargin)
    let from = max(now.addingTimeInterval(60), opens)
    guard from < until else { return 0 }

    var random = SystemRandomNumberGenerator()
    let ramp = MaturationRamp(custom: program.dailyRamp)
    let quota = try await store.maturationDay(
      programID: program.id, day: day, localDate: localDate, quota: ramp.quota(forDay: day, using: &random))
    let (done, perChip) = try await store.plannedToday(programID: program.id, day: day)
    guard done < quota else { return 0 }

    let chips = try await store.maturationChips(programID: program.id)
    for chip in chips where chip.status != .working || chip.readOnly {
      try await store.recordMaturationSkip(
        programID: program.id, localDate: localDate, reason: chip.readOnly ? "chip_read_only" : "chip_not_working",
        chipID: chip.id, detail: chip.readOnly ? "over the plan's chip limit" : chip.status.rawValue)
    }
    let working = chips.filter { $0.status == .working && !$0.readOnly }.map(\.id)
    guard working.count >= 2 else {
      try await store.recordMaturationSkip(
        programID: program.id, localDate: localDate, reason: "not_enough_working_chips", chipID: nil,
        detail: "\(working.count) WORKING")
      return 0
    }
    let times = ExchangeSchedule.times(
      count: quota - done, from: Int64(from.timeIntervalSince1970 * 1000),
      until: Int64(until.timeIntervalSince1970 * 1000),
      using: &random)
    var sentBy = perChip
    var exchanges: [PlannedExchange] = []
    var pairs: [(Int64, Int64)] = []
    for (i, a) in working.enumerated() { for b in working[(i + 1)...] { pairs.append((a, b)) } }
    for (offset, time) in times.enumerated() {
      let seq = done + offset
      let conversation = seq / 2
      let (a, b) = pairs[conversation % pairs.count]
      // Who opens alternates, so both sides of a pair send as much as they receive.
      let opener = conversation % 2 == 0 ? (a, b) : (b, a)
      let (fromChip, toChip) = seq % 2 == 0 ? opener : (opener.1, opener.0)
      if let cap = program.maturationPerChipDay, sentBy[fromChip, default: 0] >= cap {
        try await store.recordMaturationSkip(
          programID: program.id, localDate: localDate, reason: "chip_limit", chipID: fromChip,
          detail: "plan allows \(cap) a day")
        break
      }
      sentBy[fromChip, default: 0] += 1
      exchanges.append(
        PlannedExchange(
          seq: seq, fromChip: fromChip, toChip: toChip, replyToSeq: seq % 2 == 1 ? seq - 1 : nil,
          text: phrases.text(program: program.id, day: day, seq: seq),
          plannedAt: Date(timeIntervalSince1970: Double(time) / 1000)))
    }
    let inserted = try await store.planExchanges(programID: program.id, day: day, quota: quota, exchanges)
    _ = try await context.broker.enqueue(
      inserted.map { row in
        try MaturationExchangeJob.spec(
          .init(exchangeId: row.id), catalog: catalog,
          when: .at(epochMilliseconds: clock.redisTime(schedule: Int64(row.plannedAt.timeIntervalSince1970 * 1000))),
          key: "maturation:exchange:\(row.id)", tenant: program.tenantName)
      })
    return inserted.count
  }

  static func localDate(_ date: Date, _ calendar: Calendar) -> String {
    let c = calendar.dateComponents([.year, .month, .day], from: date)
    return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
  }
}
