/// What a Stripe test payment method does when charged off-session, after Stripe's own test values
/// (`pm_card_visa`, `pm_card_chargeDeclined…`, `pm_card_authenticationRequired`) plus one of ours.
enum StripeCards {
  enum Scenario: Equatable {
    case succeed
    /// 402 card_error card_declined with this decline_code and advice_code.
    case decline(code: String, advice: String)
    /// 402 card_error authentication_required: the customer must complete 3-D Secure.
    case authenticationRequired
    /// `pm_card_timeoutAfterCharge` (ours): the charge succeeds, the answer is held past the client's timeout.
    case succeedThenHold
    /// `pm_card_errorAfterCharge` (ours): the charge succeeds, the answer is a 500, stored under
    /// the key and replayed to every retry with it, as Stripe does with 500s.
    case succeedThenServerError
  }

  static func scenario(_ paymentMethod: String) -> Scenario {
    switch paymentMethod {
    case "pm_card_chargeDeclined": .decline(code: "generic_decline", advice: "try_again_later")
    case "pm_card_chargeDeclinedInsufficientFunds": .decline(code: "insufficient_funds", advice: "try_again_later")
    case "pm_card_chargeDeclinedLostCard": .decline(code: "lost_card", advice: "do_not_try_again")
    case "pm_card_chargeDeclinedStolenCard": .decline(code: "stolen_card", advice: "do_not_try_again")
    case "pm_card_chargeDeclinedFraudulent": .decline(code: "fraudulent", advice: "do_not_try_again")
    case "pm_card_authenticationRequired": .authenticationRequired
    case "pm_card_timeoutAfterCharge": .succeedThenHold
    case "pm_card_errorAfterCharge": .succeedThenServerError
    default: .succeed
    }
  }
}
