import Maturation
import TestSupport
import Testing

/// The warm-up rules alone, without a database or a clock: the daily ramp WHAGO's product plan
/// gives, how a day's messages spread over the window, and the phrases, all drawn from seeded
/// generators so every run checks the same draws.
@Suite struct MaturationRulesTests {
  @Test func theRampFollowsTheProductPlanAndACustomRampRepeatsItsLastDay() {
    let plan = MaturationRamp()
    let expected: [(Int, ClosedRange<Int>)] = [
      (1, 5...10), (3, 5...10), (4, 20...30), (7, 20...30), (8, 50...80), (14, 50...80), (15, 100...200),
      (400, 100...200),
    ]
    for (day, range) in expected { #expect(plan.range(forDay: day) == range, "day \(day)") }
    let custom = MaturationRamp(custom: [3, 6, 9])
    #expect([1, 2, 3, 4, 30].map { custom.range(forDay: $0) } == [3...3, 6...6, 9...9, 9...9, 9...9])
    var generator = SeededGenerator(seed: 42)
    for day in 1...40 {
      let quota = plan.quota(forDay: day, using: &generator)
      #expect(plan.range(forDay: day).contains(quota), "day \(day): \(quota)")
    }
  }

  @Test func aDaysMessagesFillItsWindowAsConversationsInOrder() {
    let from: Int64 = 1_000_000
    let until = from + 11 * 3_600_000  // 09:00 to 20:00
    for seed in UInt64(1)...20 {
      for count in [1, 2, 5, 10, 31, 80, 200] {
        var generator = SeededGenerator(seed: seed &* 1_000 &+ UInt64(count))
        let times = ExchangeSchedule.times(count: count, from: from, until: until, using: &generator)
        #expect(times.count == count, "seed \(seed), \(count) messages")
        #expect(times == times.sorted(), "seed \(seed), \(count) messages out of order")
        #expect(times.allSatisfy { $0 >= from && $0 < until })
        // Every reply comes 10 to 25 s after the message it answers.
        for pair in stride(from: 0, to: count - 1, by: 2) {
          let gap = times[pair + 1] - times[pair]
          #expect((10_000...25_000).contains(gap), "seed \(seed), \(count) messages: a reply \(gap) ms later")
        }
      }
    }
    // A few messages are hours apart, not bunched at the start of the day.
    var generator = SeededGenerator(seed: 7)
    let sparse = ExchangeSchedule.times(count: 6, from: from, until: until, using: &generator)
    #expect(sparse[2] - sparse[0] > 3_600_000 && sparse[4] - sparse[2] > 3_600_000, "\(sparse)")
    #expect(ExchangeSchedule.times(count: 0, from: from, until: until, using: &generator).isEmpty)
    #expect(ExchangeSchedule.times(count: 5, from: until, until: from, using: &generator).isEmpty)
  }

  @Test func phrasesAreTheSameWhenRecomputedAndVaryAcrossDays() throws {
    let bank = try PhraseBank(
      openers: (1...12).map { "opener \($0)" }, replies: (1...12).map { "reply \($0)" })
    for seq in 0..<24 {
      #expect(bank.text(program: 9, day: 3, seq: seq) == bank.text(program: 9, day: 3, seq: seq))
      #expect(bank.text(program: 9, day: 3, seq: seq).hasPrefix(seq % 2 == 0 ? "opener" : "reply"))
    }
    // Within a day the openers do not repeat until the bank is used up.
    let openers = (0..<12).map { bank.text(program: 9, day: 3, seq: $0 * 2) }
    #expect(Set(openers).count == 12)
    let days = (1...10).map { day in (0..<6).map { bank.text(program: 9, day: day, seq: $0) } }
    #expect(Set(days.map { $0.joined(separator: "|") }).count > 1, "every day read the same")
    #expect(throws: PhraseBankError.self) { try PhraseBank(openers: ["oi"], replies: ["oi", "olá"]) }
  }
}
