import Foundation

/// WHAGO's pro-rata rule for an upgrade in the middle of a period, written down because money
/// depends on it: the monthly price difference, times the days left, over the days in the period,
/// in whole centavos, rounded half up (an exact half centavo goes to the larger amount).
///
/// Days are whole. The period has its length in days, rounded (28 to 31 for a month). The days left
/// count the day of the change as a full day (a day started on the new plan is paid on it), and never
/// more than the period has. Integer arithmetic only: no floating point touches the amount.
public enum Proration {
  public static let day: TimeInterval = 86_400

  /// What an upgrade from `fromPriceCents` to `toPriceCents` costs at `now`, for the period
  /// `periodStart` to `periodEnd`; 0 when it is no dearer or the period is over.
  public static func amountCents(
    fromPriceCents: Int, toPriceCents: Int, periodStart: Date, periodEnd: Date, at now: Date
  ) -> Int {
    let difference = toPriceCents - fromPriceCents
    guard difference > 0, now < periodEnd else { return 0 }
    let (left, total) = days(periodStart: periodStart, periodEnd: periodEnd, at: now)
    return (2 * difference * left + total) / (2 * total)
  }

  /// The days left at `now` (the current day included) and the days in the period.
  public static func days(periodStart: Date, periodEnd: Date, at now: Date) -> (left: Int, total: Int) {
    let total = max(1, Int((periodEnd.timeIntervalSince(periodStart) / day).rounded()))
    let left = Int((periodEnd.timeIntervalSince(now) / day).rounded(.up))
    return (min(max(left, 0), total), total)
  }
}
