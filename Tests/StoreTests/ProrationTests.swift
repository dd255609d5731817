import BillingStore
import Foundation
import Testing

/// WHAGO's pro-rata rule, to the centavo: the difference times the days left over the days in the
/// period, the day of the change counted, half a centavo rounded up, never a negative charge.
@Suite struct ProrationTests {
  let start = Date(timeIntervalSince1970: 1_800_000_000)
  let day = Proration.day

  @Test func aThirdOfTheMonthLeftCostsAThirdOfTheDifference() {
    // Business R$ 97,00 to Enterprise R$ 297,00, 20 of 30 days left: R$ 133,333... is R$ 133,33.
    let end = start.addingTimeInterval(30 * day)
    let now = start.addingTimeInterval(10 * day)
    #expect(Proration.days(periodStart: start, periodEnd: end, at: now) == (left: 20, total: 30))
    #expect(
      Proration.amountCents(fromPriceCents: 9_700, toPriceCents: 29_700, periodStart: start, periodEnd: end, at: now)
        == 13_333)
    // 10 of 30 days left: R$ 66,666... rounds up to R$ 66,67.
    #expect(
      Proration.amountCents(
        fromPriceCents: 9_700, toPriceCents: 29_700, periodStart: start, periodEnd: end,
        at: start.addingTimeInterval(20 * day)) == 6_667)
  }

  @Test func theDayOfTheChangeCountsAsAWholeDay() {
    let end = start.addingTimeInterval(31 * day)
    // An hour before the end: one day left of 31.
    let late = end.addingTimeInterval(-3600)
    #expect(Proration.days(periodStart: start, periodEnd: end, at: late) == (left: 1, total: 31))
    #expect(
      Proration.amountCents(fromPriceCents: 0, toPriceCents: 31_000, periodStart: start, periodEnd: end, at: late)
        == 1_000)
    // At the very start: the whole month.
    #expect(
      Proration.amountCents(fromPriceCents: 0, toPriceCents: 31_000, periodStart: start, periodEnd: end, at: start)
        == 31_000)
  }

  @Test func halfACentavoRoundsUpAndLessRoundsDown() {
    let end = start.addingTimeInterval(2 * day)
    let now = start.addingTimeInterval(1.5 * day)  // 1 of 2 days left
    #expect(
      Proration.amountCents(fromPriceCents: 100, toPriceCents: 103, periodStart: start, periodEnd: end, at: now) == 2)
    let longer = start.addingTimeInterval(4 * day)
    let lastDay = start.addingTimeInterval(3.5 * day)  // 1 of 4 days left: 0.25 and 0.75 centavo
    #expect(
      Proration.amountCents(fromPriceCents: 100, toPriceCents: 101, periodStart: start, periodEnd: longer, at: lastDay)
        == 0)
    #expect(
      Proration.amountCents(fromPriceCents: 100, toPriceCents: 103, periodStart: start, periodEnd: longer, at: lastDay)
        == 1)
  }

  @Test func nothingIsChargedForACheaperPlanOrAnEndedPeriod() {
    let end = start.addingTimeInterval(30 * day)
    let now = start.addingTimeInterval(day)
    #expect(
      Proration.amountCents(fromPriceCents: 29_700, toPriceCents: 9_700, periodStart: start, periodEnd: end, at: now)
        == 0)
    #expect(
      Proration.amountCents(fromPriceCents: 9_700, toPriceCents: 9_700, periodStart: start, periodEnd: end, at: now)
        == 0)
    #expect(
      Proration.amountCents(
        fromPriceCents: 9_700, toPriceCents: 29_700, periodStart: start, periodEnd: end,
        at: end.addingTimeInterval(1)) == 0)
  }
}
