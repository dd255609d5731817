import JobQueue
import Testing

@Suite struct BackoffTests {
  @Test func delayDoublesPerAttemptWithinJitterBounds() {
    let backoff = Backoff(base: .milliseconds(1000), cap: .seconds(3600))
    var rng = SystemRandomNumberGenerator()
    for attempt in 1...10 {
      let full = Int64(1000) << (attempt - 1)
      for _ in 0..<50 {
        let ms = backoff.delay(afterAttempt: attempt, using: &rng).milliseconds
        #expect(ms >= full / 2 && ms <= full, "attempt \(attempt): \(ms) ms outside [\(full / 2), \(full)]")
      }
    }
  }

  @Test func delayIsCapped() {
    let backoff = Backoff(base: .seconds(1), cap: .seconds(60))
    var rng = SystemRandomNumberGenerator()
    for attempt in [7, 20, 100, 10_000] {
      let ms = backoff.delay(afterAttempt: attempt, using: &rng).milliseconds
      #expect(ms >= 30_000 && ms <= 60_000)
    }
  }

  @Test func jitterSpreadsRetries() {
    let backoff = Backoff(base: .seconds(10), cap: .seconds(3600))
    // Over 200 draws the delays cover the range: some in the lowest and some in the highest tenth
    // (each misses with probability 0.9^200, about 1e-9).
    var rng = SystemRandomNumberGenerator()
    let draws = (0..<200).map { _ in backoff.delay(afterAttempt: 1, using: &rng).milliseconds }
    #expect(draws.contains { $0 < 5_500 })
    #expect(draws.contains { $0 > 9_500 })
  }
}
