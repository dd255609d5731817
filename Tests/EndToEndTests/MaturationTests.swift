import Foundation
import JobQueue
import Postgres
import TestSupport
import Testing

extension EndToEndTests {
  /// A 5-day warm-up on a clock 7,200 times faster than Redis's (a day in 12 s): every day sends
  /// exactly its quota, every message inside 09:00-20:00 on the tenant's clock, counted from what
  /// the WAHA simulator accepted; ticks that overlap or run twice change nothing.
  @Test func aFiveDayProgramSendsEachDaysQuotaInsideTheWindow() async throws {
    let speed = 7200.0
    try await CampaignRun.with(
      plan: ["maturation=true", "maturation_per_chip_day=unlimited"], chips: 3,
      catalogEdit: { original in
        var catalog = original
        // The tick every 30 virtual minutes (4 a second here), as the cron schedules it.
        catalog["schedules"] = [
          "maturation.tick": [
            "cron": "0 */30 * * * *", "timezone": "UTC", "job": "maturation.tick", "missed": "skip",
            "missed_after_ms": 60_000,
          ]
        ]
        return catalog
      }
    ) { run in
      // The next Monday, 06:00 in São Paulo (09:00 UTC; no daylight saving there since 2019), two
      // seconds from now in Redis time.
      let monday = try await TestDatabase.nextHour(weekday: 2, hour: 9)
      let saoPaulo = ISO8601DateFormatter()
      saoPaulo.timeZone = TimeZone(identifier: "America/Sao_Paulo")!
      let startMs = Int64(monday.timeIntervalSince1970 * 1000)
      let anchor = try await TestRedis.broker().redisTime() + 2000
      let clock = ScheduleClock(anchor: anchor, start: startMs, speed: speed)
      let environment = ["WHAGO_SCHEDULE_CLOCK": "anchor=\(anchor),start=\(startMs),speed=\(Int(speed))"]

      let created = try await HTTP.send(
        "POST", run.serve.base + "/v1/maturation", key: run.key,
        json: ["chip_ids": run.chipIDs.map(Int.init), "days": 5, "start_at": saoPaulo.string(from: monday)])
      #expect(created.status == 201, "\(created.text)")
      let id = try #require(try created.json()["id"] as? Int)
      try run.startWorker(environment: environment)
      try run.startWorker(environment: environment)

      // Midway, ticks run twice more by hand: they must plan nothing new.
      try await Task.sleep(for: .seconds(20))
      let broker = try TestRedis.broker()
      for _ in 0..<2 {
        _ = try await broker.enqueue(JobSpec(type: "maturation.tick", queue: run.queue, maxAttempts: 1))
      }

      // Friday 20:00 local is 110 virtual hours after the start: 55 s here.
      try await eventually("the program to complete", within: .seconds(120), every: .milliseconds(250)) {
        let report = try await HTTP.send("GET", run.serve.base + "/v1/maturation/\(id)", key: run.key).json()
        return report["status"] as? String == "completed"
      }
      let report = try await HTTP.send("GET", run.serve.base + "/v1/maturation/\(id)", key: run.key).json()
      let history = try #require(report["history"] as? [[String: Any]])
      #expect(history.map { $0["day"] as? Int } == [1, 2, 3, 4, 5])

      var calendar = Calendar(identifier: .gregorian)
      calendar.timeZone = TimeZone(identifier: "America/Sao_Paulo")!
      var perDate: [String: Int] = [:]
      for message in try await run.sent() {
        let virtual = Date(timeIntervalSince1970: Double(clock.scheduleTime(redis: Int64(message.time))) / 1000)
        let local = calendar.dateComponents([.year, .month, .day, .hour, .weekday], from: virtual)
        #expect((9..<20).contains(local.hour ?? -1), "a message at \(local.hour ?? -1)h local")
        #expect(local.weekday != 1, "a message on a Sunday")
        perDate[String(format: "%04d-%02d-%02d", local.year!, local.month!, local.day!), default: 0] += 1
      }
      for day in history {
        let date = day["local_date"] as? String ?? ""
        let quota = day["quota"] as? Int ?? -1
        #expect(perDate[date] == quota, "day \(day["day"] ?? "?") (\(date)): sent \(perDate[date] ?? 0) of \(quota)")
        #expect(day["sent"] as? Int == quota)
        let number = day["day"] as? Int ?? 0
        #expect(number <= 3 ? (5...10).contains(quota) : (20...30).contains(quota), "day \(number)'s quota is \(quota)")
      }
      #expect(perDate.count == 5)
      // Both sides of every pair talk: each chip sent and received.
      let chips = try #require(report["chips"] as? [[String: Any]])
      #expect(chips.allSatisfy { ($0["sent"] as? Int ?? 0) > 0 && ($0["received"] as? Int ?? 0) > 0 })
      // The feed tells each day once, as it ends, then the program's end.
      var mine: [[String: Any]] = []
      try await eventually("the program's events in the feed") {
        let feed = try await HTTP.send(
          "GET", run.serve.base + "/v1/events?type=maturation.day_completed,maturation.completed", key: run.key
        ).json()
        mine = (feed["events"] as? [[String: Any]] ?? []).filter {
          ($0["subject"] as? [String: Any])?["id"] as? Int == id
        }
        return mine.count >= 6
      }
      let days = mine.filter { $0["type"] as? String == "maturation.day_completed" }
      #expect(days.map { ($0["data"] as? [String: Any])?["day"] as? Int } == [1, 2, 3, 4, 5], "\(mine)")
      #expect(mine.last?["type"] as? String == "maturation.completed", "\(mine)")
      #expect((mine.last?["data"] as? [String: Any])?["days"] as? Int == 5, "\(mine)")
    }
  }
}
