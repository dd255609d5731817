import Campaigns
import TestSupport
import Testing

@Suite struct HumanPaceTests {
  @Test func intervalsAreRandomWithinThirtyToSixtySeconds() {
    let pace = HumanPace()
    var generator = SeededGenerator(seed: 42)
    let delays = (1...2000).filter { $0 % 40 != 0 }.map { pace.delay(afterSend: $0, using: &generator) }
    #expect(delays.allSatisfy { (.seconds(30)...(.seconds(60))).contains($0) })
    #expect(delays.contains { $0 < .seconds(31) })
    #expect(delays.contains { $0 > .seconds(59) })
    #expect(Set(delays).count > 1000)
  }

  @Test func aSeedRepeatsItsDraws() {
    let pace = HumanPace()
    var first = SeededGenerator(seed: 7)
    var second = SeededGenerator(seed: 7)
    let a = (1...20).map { pace.delay(afterSend: $0, using: &first) }
    let b = (1...20).map { pace.delay(afterSend: $0, using: &second) }
    #expect(a == b)
  }

  @Test func neverBelowThePlansMinimumGap() {
    var generator = SeededGenerator(seed: 1)
    let zero = HumanPace(interval: .zero...(.zero), minimumGap: .seconds(10), rest: nil)
    #expect((1...100).allSatisfy { zero.delay(afterSend: $0, using: &generator) == .seconds(10) })
    let fast = HumanPace(interval: .seconds(1)...(.seconds(8)), minimumGap: .seconds(5), rest: nil)
    let delays = (1...500).map { fast.delay(afterSend: $0, using: &generator) }
    #expect(delays.allSatisfy { $0 >= .seconds(5) && $0 <= .seconds(8) })
    #expect(delays.contains { $0 > .seconds(5) })
  }

  @Test func aLongerRestAfterEveryFortySends() {
    let pace = HumanPace()
    #expect(pace.isRest(afterSend: 40))
    #expect(pace.isRest(afterSend: 80))
    #expect(!pace.isRest(afterSend: 39))
    #expect(!pace.isRest(afterSend: 41))
    #expect(!pace.isRest(afterSend: 0))
    var generator = SeededGenerator(seed: 3)
    let rests = (1...200).map { pace.delay(afterSend: 40 * $0, using: &generator) }
    #expect(rests.allSatisfy { (.seconds(300)...(.seconds(900))).contains($0) })
    #expect(rests.contains { $0 < .seconds(400) } && rests.contains { $0 > .seconds(800) })
  }

  @Test func noRestWhenTheCampaignTurnsItOff() {
    let pace = HumanPace(interval: .zero...(.zero), rest: nil)
    var generator = SeededGenerator(seed: 5)
    #expect(!pace.isRest(afterSend: 40))
    #expect(pace.delay(afterSend: 40, using: &generator) == .zero)
  }

  @Test func typingTakesAsLongAsTheText() {
    let pace = HumanPace()
    var generator = SeededGenerator(seed: 9)
    let text = String(repeating: "a", count: 45)  // 10 s at 4.5 characters a second, 18 s at 2.5
    let times = (1...500).map { _ in pace.typingDuration(for: text, using: &generator) }
    #expect(times.allSatisfy { (.seconds(10)...(.seconds(18))).contains($0) })
    #expect(times.contains { $0 < .seconds(11) } && times.contains { $0 > .seconds(17) })
  }

  @Test func typingIsClampedForShortAndLongTexts() {
    let pace = HumanPace()
    var generator = SeededGenerator(seed: 11)
    #expect(pace.typingDuration(for: "oi", using: &generator) == .seconds(1))
    #expect(pace.typingDuration(for: "", using: &generator) == .seconds(1))
    #expect(pace.typingDuration(for: String(repeating: "x", count: 5000), using: &generator) == .seconds(20))
  }
}
