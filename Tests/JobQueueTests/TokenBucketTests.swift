import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

@Suite struct TokenBucketTests {
  private func name() -> String { "t-\(UUID().uuidString.prefix(12))" }

  @Test func burstThenPromisedTokensThenWait() async throws {
    let broker = try TestRedis.broker()
    // One token every 1,000 s and a horizon of 2,500 s: however slowly the takes run (anything
    // under ~8 minutes), real time between them refills almost nothing, so the outcomes below
    // are fixed. Every expectation is phrased in the Redis time the bucket itself reports.
    let bucket = TokenBucket(name: name(), capacity: 3, refillPerSecond: 0.001)
    let horizon: Int64 = 2_500_000
    var grants: [TokenGrant] = []
    for _ in 0..<6 { grants.append(try await broker.take([bucket], horizon: .milliseconds(horizon))) }
    // Three from the full bucket at once, then tokens promised 1,000 s apart within the horizon:
    // the k-th extra token exists 1,000k seconds after the bucket was first touched, however long
    // the takes took.
    var times: [(at: Int64, now: Int64)] = []
    for grant in grants.prefix(5) {
      guard case .granted(let at, let now) = grant else {
        Issue.record("expected a grant, got \(grant)")
        return
      }
      times.append((at, now))
    }
    let start = times[0].now
    #expect(times.allSatisfy { $0.now >= start }, "\(times)")
    #expect(times.prefix(3).allSatisfy { $0.at == $0.now }, "\(times)")
    #expect(abs(times[3].at - (start + 1_000_000)) <= 1, "\(times)")
    #expect(abs(times[4].at - (start + 2_000_000)) <= 1, "\(times)")
    // The sixth would exist at start + 3,000 s, beyond the horizon: nothing taken, and the retry
    // is when that token comes within the horizon of the sixth take's own `now`.
    guard case .wait(let retryIn, let now) = grants[5] else {
      Issue.record("expected a wait, got \(grants[5]) (times \(times))")
      return
    }
    #expect(now >= times[4].now)
    #expect(abs(retryIn - (start + 3_000_000 - horizon - now)) <= 1, "retry in \(retryIn), now \(now), start \(start)")
    // Five taken (two of them promised ahead), the sixth not: the level is 3 - 5 plus what
    // refilled since the start, which is well under 0.2 of a token even minutes later.
    let level = try await broker.bucketLevel(bucket)
    let expected = 3 + 0.001 * Double(now - start) / 1000 - 5
    #expect(level >= expected - 0.01 && level < expected + 0.2, "level \(level), expected \(expected)")
  }

  @Test func severalBucketsAreAllOrNothing() async throws {
    let broker = try TestRedis.broker()
    let roomy = TokenBucket(name: name(), capacity: 10, refillPerSecond: 0.001)
    let tight = TokenBucket(name: name(), capacity: 1, refillPerSecond: 0.001)
    #expect(try await broker.take([roomy, tight], horizon: .zero) != .wait(retryIn: 0, now: 0))
    let levelBefore = try await broker.bucketLevel(roomy)
    let second = try await broker.take([roomy, tight], horizon: .zero)
    guard case .wait = second else {
      Issue.record("the tight bucket is empty; expected a wait, got \(second)")
      return
    }
    // The roomy bucket gave nothing when the tight one could not.
    #expect(abs(try await broker.bucketLevel(roomy) - levelBefore) < 0.1)
  }

  @Test func aPlanChangeAppliesToTheNextTake() async throws {
    let broker = try TestRedis.broker()
    let bucket = name()
    let slow = TokenBucket(name: bucket, capacity: 1, refillPerSecond: 0.001)
    guard case .granted = try await broker.take([slow], horizon: .zero) else {
      Issue.record("a full bucket must grant")
      return
    }
    guard case .wait = try await broker.take([slow], horizon: .zero) else {
      Issue.record("an empty slow bucket must make the caller wait")
      return
    }
    // The plan changes to 1,000 tokens a second: the very next take gets a token within ~1 ms.
    let fast = TokenBucket(name: bucket, capacity: 1, refillPerSecond: 1000)
    let grant = try await broker.take([fast], horizon: .milliseconds(5))
    guard case .granted(let at, let now) = grant else {
      Issue.record("expected a grant after the plan change, got \(grant)")
      return
    }
    #expect(at - now <= 1)
    // A smaller capacity also applies at once: a full bucket of 10 shrunk to 2 gives 2.
    let big = TokenBucket(name: name(), capacity: 10, refillPerSecond: 0.001)
    _ = try await broker.take([big], horizon: .zero)
    let shrunk = TokenBucket(name: big.name, capacity: 2, refillPerSecond: 0.001)
    var granted = 0
    for _ in 0..<5 {
      if case .granted = try await broker.take([shrunk], horizon: .zero) { granted += 1 }
    }
    #expect(granted == 2)
  }
}
