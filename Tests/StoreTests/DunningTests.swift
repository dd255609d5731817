import BillingStore
import Foundation
import Store
import Testing

/// WHAGO's dunning rule without a database: three attempts a day and then two days apart, then
/// suspended; nothing retried blindly that a person has to fix.
@Suite struct DunningTests {
  let now = Date(timeIntervalSince1970: 1_800_000_000)
  let soft = ChargeResult.declined(paymentID: "pi_1", code: "insufficient_funds", advice: nil, hard: false)

  @Test func aSoftDeclineIsRetriedOnDayOneAndDayThreeThenSuspends() {
    let first = Dunning.step(after: soft, attempt: 1, now: now)
    #expect(first == .retry(at: now.addingTimeInterval(86_400)))
    let second = Dunning.step(after: soft, attempt: 2, now: now.addingTimeInterval(86_400))
    #expect(second == .retry(at: now.addingTimeInterval(3 * 86_400)))
    #expect(Dunning.step(after: soft, attempt: 3, now: now.addingTimeInterval(3 * 86_400)) == .suspend)
    // Never more attempts than the rule's, whatever a caller counts.
    #expect(Dunning.step(after: soft, attempt: 4, now: now) == .suspend)
  }

  @Test func aPaymentPaysOnAnyAttempt() {
    for attempt in 1...Dunning.attempts {
      #expect(Dunning.step(after: .succeeded(paymentID: "pi_2"), attempt: attempt, now: now) == .pay)
    }
  }

  @Test func whatTheCustomerMustFixWaitsForThemAndIsNeverRetried() {
    let hard = ChargeResult.declined(paymentID: "pi_3", code: "stolen_card", advice: "do_not_try_again", hard: true)
    for attempt in 1...Dunning.attempts {
      #expect(Dunning.step(after: hard, attempt: attempt, now: now) == .wait(.customerMustAct))
      #expect(
        Dunning.step(after: .requiresAction(paymentID: "pi_4"), attempt: attempt, now: now) == .wait(.customerMustAct))
    }
  }

  @Test func anErrorOfOursWaitsForAnOperatorUntilTheLastAttempt() {
    let refused = ChargeResult.error("gateway refused the request: invalid API key")
    #expect(Dunning.step(after: refused, attempt: 1, now: now) == .wait(.operatorMustLook))
    #expect(Dunning.step(after: refused, attempt: 2, now: now) == .wait(.operatorMustLook))
    #expect(Dunning.step(after: refused, attempt: 3, now: now) == .suspend)
  }

  @Test func theDaysAreWHAGOs() {
    // REFERENCE.md: retries on day 1 and day 3, suspension, the free plan 7 days later.
    #expect(Dunning.attempts == 3)
    #expect(Dunning.retryAfter == [86_400, 172_800])
    #expect(Dunning.suspensionBeforeFree == 604_800)
  }
}
