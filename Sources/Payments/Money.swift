import Foundation

/// Amounts as each gateway writes them: Stripe takes integer cents, Mercado Pago a decimal number
/// of reais, PayPal a decimal string with two places. Built from the integer cents, never through
/// floating point, so 19.99 never becomes 19.989999.
enum Money {
  /// `9700` → `"97.00"`.
  static func decimalString(cents: Int) -> String {
    let sign = cents < 0 ? "-" : ""
    let magnitude = cents.magnitude
    let fraction = magnitude % 100
    return "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
  }

  /// `9750` → `97.5` (exact, as a JSON number).
  static func decimal(cents: Int) -> Decimal {
    Decimal(cents) / 100
  }
}
