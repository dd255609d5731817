import CampaignStore
import Foundation

/// What the gateway said, in the ledger's terms.
public enum ChargeResult: Sendable, Equatable {
  case succeeded(paymentID: String)
  case declined(paymentID: String?, code: String?, advice: String?, hard: Bool)
  case requiresAction(paymentID: String?)
  case error(String)
}

/// Where a subscription is after a charge.
public enum RenewalState: Sendable, Equatable {
  /// With the campaigns a suspension had paused, resumed by the payment: the caller launches them.
  case paid(periodEnd: Date, resumed: [CampaignLaunch])
  case retryAt(Date)
  case waitingForCustomer
  case suspended
  /// An upgrade's charge was declined: its invoice is void and the plan stays as it was.
  case refused
}

/// WHAGO's dunning: three attempts in all, the second a day after the first, the third two days
/// after that (day 3), never hours apart; then suspended; after 7 days suspended, the free plan.
public enum Dunning {
  public static let attempts = 3
  public static let retryAfter: [TimeInterval] = [86_400, 2 * 86_400]
  public static let suspensionBeforeFree: TimeInterval = 7 * 86_400
  /// A charge that needs the customer (or a hard decline) is not retried; the account is suspended
  /// when the dunning days have passed without a payment.
  public static let graceWithoutRetry: TimeInterval = 3 * 86_400

  /// What an unpaid invoice waits for when it is not retried.
  public enum Wait: Sendable, Equatable {
    /// A hard decline, or a charge the customer must confirm (3-D Secure, a Pix to pay).
    case customerMustAct
    /// Our request was refused (configuration): no blind retry, an operator must look.
    case operatorMustLook
  }

  /// What follows a charge's outcome.
  public enum Step: Sendable, Equatable {
    case pay
    case retry(at: Date)
    case wait(Wait)
    case suspend
  }

  /// The dunning rule, with no database: what follows the `attempt`-th charge's `result` at `now`.
  /// A soft decline is retried on schedule until the last attempt, which suspends; an error of
  /// ours waits for an operator before the last attempt (the last one suspends, as a decline
  /// would); a hard decline or a charge needing the customer waits for them, and
  /// `suspendOverdue` suspends it when the dunning days have passed.
  public static func step(after result: ChargeResult, attempt: Int, now: Date) -> Step {
    switch result {
    case .succeeded: return .pay
    case .declined(_, _, _, hard: false) where attempt < attempts:
      return .retry(at: now.addingTimeInterval(retryAfter[max(0, min(attempt - 1, retryAfter.count - 1))]))
    case .error where attempt < attempts: return .wait(.operatorMustLook)
    case .declined(_, _, _, hard: false), .error: return .suspend
    case .declined(_, _, _, hard: true), .requiresAction: return .wait(.customerMustAct)
    }
  }
}
