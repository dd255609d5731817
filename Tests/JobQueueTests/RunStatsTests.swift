import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

/// The per-minute run aggregates behind the dashboard's charts: histogram buckets and percentiles,
/// and a tally written to Redis and read back in bars, per type and in total.
@Suite struct RunStatsTests {
  @Test func histogramBucketsAreHalfOctavesAndPercentilesReadTheirUpperEdge() {
    #expect(RunHistogram.bucket(0) == 0)
    #expect(RunHistogram.bucket(1) == 1)
    #expect(RunHistogram.bucket(2) == 3)
    #expect(RunHistogram.bucket(1000) == 20)
    // Every value lies within its bucket, and the edge is within 42% above it.
    for ms: Int64 in [1, 2, 3, 7, 10, 99, 100, 1000, 12_345, 3_600_000] {
      let edge = RunHistogram.upperBound(RunHistogram.bucket(ms))
      #expect(edge >= ms && Double(edge) <= Double(ms) * 1.42 + 1, "\(ms) -> \(edge)")
    }
    // 98 fast runs and 2 slow: p50 is fast, p99 is slow.
    let counts = [RunHistogram.bucket(10): 98, RunHistogram.bucket(2000): 2]
    #expect(RunHistogram.quantile(counts, 0.5) == RunHistogram.upperBound(RunHistogram.bucket(10)))
    #expect(RunHistogram.quantile(counts, 0.99) == RunHistogram.upperBound(RunHistogram.bucket(2000)))
    #expect(RunHistogram.quantile([:], 0.5) == nil)
  }

  @Test func aTallyIsWrittenAndReadBackPerMinuteAndPerType() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue("runstats")
    let now = try await broker.redisTime()
    let tally = RunTally()
    // This minute: 99 sends of 40 ms and one of 5 s; a failure; 10 billing runs that waited 2 s.
    for _ in 0..<99 {
      tally.record(queue: queue, type: "campaign.send", failed: false, runtimeMs: 40, waitMs: 3, endedAt: now)
    }
    tally.record(queue: queue, type: "campaign.send", failed: false, runtimeMs: 5_000, waitMs: 3, endedAt: now)
    tally.record(queue: queue, type: "campaign.send", failed: true, runtimeMs: 100, waitMs: 3, endedAt: now)
    for _ in 0..<10 {
      tally.record(queue: queue, type: "billing.renew", failed: false, runtimeMs: 300, waitMs: 2_000, endedAt: now)
    }
    // Two minutes ago: 5 sends.
    for _ in 0..<5 {
      tally.record(queue: queue, type: "campaign.send", failed: false, runtimeMs: 40, waitMs: 3, endedAt: now - 120_000)
    }
    try await broker.addRunStats(tally.drain())
    #expect(tally.drain().isEmpty)

    // Bars are found by their start, not their place: on a slow machine the minute may have turned
    // since `now` was read, and then this minute's bar is the next-to-last.
    func bar(_ points: [RunStatsPoint], at time: Int64) throws -> RunStatsPoint {
      try #require(points.first { $0.start == time / 60_000 * 60_000 }, "no bar for \(time)")
    }
    let all = try await broker.runStats(queue: queue)
    #expect(all.points.count == 60)
    let last = try bar(all.points, at: now)
    #expect(last.processed == 110 && last.failed == 1)
    #expect(try bar(all.points, at: now - 120_000).processed == 5)
    #expect(all.points.map(\.processed).reduce(0, +) == 115)
    #expect(all.byType.map(\.type) == ["billing.renew", "campaign.send"])

    let sends = try await broker.runStats(queue: queue, type: "campaign.send")
    let current = try bar(sends.points, at: now)
    #expect(current.processed == 100 && current.failed == 1)
    #expect(current.runtimeP50Ms == RunHistogram.upperBound(RunHistogram.bucket(40)))
    // 101 runs: the 100th slowest is the 100 ms failure's bucket, p99 of one slow run in 101.
    #expect(current.runtimeP99Ms == RunHistogram.upperBound(RunHistogram.bucket(100)))
    let billing = try #require(all.byType.first { $0.type == "billing.renew" }?.totals)
    #expect(billing.processed == 10 && billing.waitP99Ms == RunHistogram.upperBound(RunHistogram.bucket(2_000)))

    // Bars of 15 minutes over a day: 96 of them, the same totals.
    let day = try await broker.runStats(queue: queue, resolution: .quarterHour, bars: 96)
    #expect(day.points.count == 96)
    #expect(day.points.map(\.processed).reduce(0, +) == 115)
    // A minute's hash lives for the hour's chart, a quarter hour's for the day's.
    let keys = QueueKeys(queue: queue)
    let minuteTTL = try await broker.redis.send("PTTL", keys.runMinute(now / 60_000)).int ?? -1
    #expect(minuteTTL > 60 * 60_000 && minuteTTL <= 65 * 60_000)
    let quarterTTL = try await broker.redis.send("PTTL", keys.runQuarterHour(now / 900_000)).int ?? -1
    #expect(quarterTTL > 24 * 3_600_000 && quarterTTL <= 25 * 3_600_000)
  }
}
