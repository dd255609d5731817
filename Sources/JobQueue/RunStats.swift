import Foundation
import RedisClient
import Synchronization

/// Per-minute aggregates of runs, per queue and job type, for the dashboard's charts: how many
/// finished and failed, and histograms of runtime and of wait (ready to started), from which p50
/// and p99 are read. Workers tally in memory and add their tallies to Redis about once a second:
/// no write on a job's own path, a few HINCRBYs per worker per second.
///
/// Memory: per queue, one HASH a minute kept 65 minutes (the hour's chart) and one a quarter hour
/// kept 25 hours (the day's), so at most about 165 hashes. Each holds per job type 2 counters and
/// the histogram buckets that were hit (half-octave buckets: runtimes from 10 ms to 1 s fill about
/// 14). Measured on Redis 7: 330 bytes for one type, 5.2 KB for 10 types with 20 buckets each, so
/// a queue with 10 busy types holds about 0.9 MB.
public enum RunHistogram {
  /// Buckets: 0 holds runs under 1 ms; bucket b ≥ 1 holds [2^((b-1)/2), 2^(b/2)) ms.
  public static func bucket(_ ms: Int64) -> Int {
    guard ms >= 1 else { return 0 }
    return min(80, 1 + Int((2 * log2(Double(ms))).rounded(.down)))
  }

  /// The largest value bucket b holds, in ms: what a percentile in that bucket is reported as.
  public static func upperBound(_ bucket: Int) -> Int64 {
    bucket <= 0 ? 1 : Int64(pow(2, Double(bucket) / 2).rounded(.up))
  }

  /// The value below which a fraction `q` of the counted runs fall (a bucket's upper bound); nil
  /// when nothing was counted.
  public static func quantile(_ counts: [Int: Int], _ q: Double) -> Int64? {
    let total = counts.values.reduce(0, +)
    guard total > 0 else { return nil }
    let rank = max(1, Int((q * Double(total)).rounded(.up)))
    var seen = 0
    for bucket in counts.keys.sorted() {
      seen += counts[bucket] ?? 0
      if seen >= rank { return upperBound(bucket) }
    }
    return upperBound(counts.keys.max() ?? 0)
  }
}

/// One bar of a chart: a minute, or several minutes added up.
public struct RunStatsPoint: Sendable, Equatable {
  /// The start of the bar, Redis ms since 1970.
  public var start: Int64
  public var processed: Int
  public var failed: Int
  public var runtimeP50Ms: Int64?
  public var runtimeP99Ms: Int64?
  public var waitP99Ms: Int64?
}

/// A chart's bars, and each job type's totals over the whole range.
public struct RunStatsSeries: Sendable {
  public var points: [RunStatsPoint]
  public var byType: [(type: String, totals: RunStatsPoint)]
}

/// A worker's runs not yet written to Redis: queue -> minute -> field -> count.
public final class RunTally: Sendable {
  private let counts = Mutex<[String: [Int64: [String: Int]]]>([:])

  public init() {}

  /// Counts one run that ended at Redis time `endedAt` (ms), having run `runtimeMs` after waiting
  /// `waitMs` since it was ready.
  public func record(queue: String, type: String, failed: Bool, runtimeMs: Int64, waitMs: Int64, endedAt: Int64) {
    let minute = endedAt / 60_000
    let prefix = type + "|"
    counts.withLock { counts in
      counts[queue, default: [:]][minute, default: [:]][prefix + (failed ? "f" : "p"), default: 0] += 1
      counts[queue, default: [:]][minute, default: [:]][prefix + "r\(RunHistogram.bucket(runtimeMs))", default: 0] += 1
      counts[queue, default: [:]][minute, default: [:]][
        prefix + "w\(RunHistogram.bucket(max(0, waitMs)))", default: 0] +=
        1
    }
  }

  /// Takes everything tallied so far.
  public func drain() -> [String: [Int64: [String: Int]]] {
    counts.withLock { counts in
      defer { counts = [:] }
      return counts
    }
  }

  /// Puts back a drain that could not be written, to try again.
  public func restore(_ drained: [String: [Int64: [String: Int]]]) {
    counts.withLock { counts in
      for (queue, minutes) in drained {
        for (minute, fields) in minutes {
          for (field, n) in fields { counts[queue, default: [:]][minute, default: [:]][field, default: 0] += n }
        }
      }
    }
  }
}

/// The two sizes of chart bar, each with its own hashes.
public enum RunStatsResolution: Sendable, CaseIterable {
  /// A bar a minute, for the last hour.
  case minute
  /// A bar a quarter hour, for the last 24 hours.
  case quarterHour

  public var milliseconds: Int64 { self == .minute ? 60_000 : 900_000 }
  /// How long its hashes live: the chart's span and some to spare.
  public var lifetime: Duration { self == .minute ? .seconds(65 * 60) : .seconds(25 * 3600) }

  func key(_ keys: QueueKeys, slot: Int64) -> String {
    self == .minute ? keys.runMinute(slot) : keys.runQuarterHour(slot)
  }
}

extension Broker {
  /// Adds a worker's tally to Redis in one pipeline, to each minute's hash and its quarter hour's.
  /// Not a job state change: counts only.
  public func addRunStats(_ tally: [String: [Int64: [String: Int]]]) async throws {
    var commands: [RedisCommand] = []
    for (queue, minutes) in tally {
      let keys = QueueKeys(queue: queue)
      var quarters: [Int64: [String: Int]] = [:]
      for (minute, fields) in minutes {
        for (field, n) in fields { quarters[minute / 15, default: [:]][field, default: 0] += n }
      }
      for (resolution, slots) in [(RunStatsResolution.minute, minutes), (.quarterHour, quarters)] {
        for (slot, fields) in slots {
          let key = resolution.key(keys, slot: slot)
          for (field, n) in fields { commands.append(RedisCommand("HINCRBY", key, field, String(n))) }
          commands.append(RedisCommand("PEXPIRE", key, String(resolution.lifetime.milliseconds)))
        }
      }
    }
    if !commands.isEmpty { _ = try await redis.pipeline(commands) }
  }

  /// The run aggregates of `queue` (one job type, or all) in the last `bars` bars of `resolution`,
  /// oldest first, the current one last; and each type's totals over them.
  public func runStats(queue: String, type: String? = nil, resolution: RunStatsResolution = .minute, bars: Int = 60)
    async throws -> RunStatsSeries
  {
    let keys = QueueKeys(queue: queue)
    let time = try await redis.send("TIME").array ?? []
    guard let seconds = time.first?.int else {
      throw QueueError.unexpectedReply(operation: "TIME", detail: "\(time)")
    }
    let current = seconds * 1000 / resolution.milliseconds
    let count = max(1, bars)
    let first = current - Int64(count - 1)
    let replies = try await redis.pipeline(
      (0..<count).map { RedisCommand("HGETALL", resolution.key(keys, slot: first + Int64($0))) })
    var totals: [String: (p: Int, f: Int, r: [Int: Int], w: [Int: Int])] = [:]
    var points: [RunStatsPoint] = []
    var runtime: [Int: Int] = [:]
    var wait: [Int: Int] = [:]
    var point = RunStatsPoint(start: first * resolution.milliseconds, processed: 0, failed: 0)
    for (offset, reply) in replies.enumerated() {
      if offset > 0 {
        points.append(Self.closing(point, runtime, wait))
        point = RunStatsPoint(start: (first + Int64(offset)) * resolution.milliseconds, processed: 0, failed: 0)
        runtime = [:]
        wait = [:]
      }
      let pairs = reply.array ?? []
      for i in stride(from: 0, to: pairs.count - 1, by: 2) {
        guard let field = pairs[i].string, let bar = field.lastIndex(of: "|"),
          let n = pairs[i + 1].string.flatMap({ Int($0) })
        else { continue }
        let name = String(field[..<bar])
        let kind = field[field.index(after: bar)...]
        let mine = type == nil || name == type
        switch kind.first {
        case "p":
          totals[name, default: (0, 0, [:], [:])].p += n
          if mine { point.processed += n }
        case "f":
          totals[name, default: (0, 0, [:], [:])].f += n
          if mine { point.failed += n }
        case "r":
          guard let b = Int(kind.dropFirst()) else { continue }
          totals[name, default: (0, 0, [:], [:])].r[b, default: 0] += n
          if mine { runtime[b, default: 0] += n }
        case "w":
          guard let b = Int(kind.dropFirst()) else { continue }
          totals[name, default: (0, 0, [:], [:])].w[b, default: 0] += n
          if mine { wait[b, default: 0] += n }
        default: break
        }
      }
    }
    points.append(Self.closing(point, runtime, wait))
    let byType = totals.sorted { $0.key < $1.key }.map { name, t in
      (name, Self.closing(RunStatsPoint(start: first * resolution.milliseconds, processed: t.p, failed: t.f), t.r, t.w))
    }
    return RunStatsSeries(points: points, byType: byType)
  }

  private static func closing(_ point: RunStatsPoint, _ runtime: [Int: Int], _ wait: [Int: Int]) -> RunStatsPoint {
    var point = point
    point.runtimeP50Ms = RunHistogram.quantile(runtime, 0.5)
    point.runtimeP99Ms = RunHistogram.quantile(runtime, 0.99)
    point.waitP99Ms = RunHistogram.quantile(wait, 0.99)
    return point
  }
}
