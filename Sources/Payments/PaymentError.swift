/// A charge that got no usable answer, sorted by what the billing job must do next. Descriptions
/// name the gateway's endpoint and answer, never a key, token or Authorization header.
public enum PaymentError: Error, Sendable, Equatable, CustomStringConvertible {
  /// Timeout, connection trouble, 5xx, 429, or Stripe's 409 for a concurrent request with the same
  /// key. The charge may or may not have happened: retry with THE SAME idempotency key, and the
  /// gateway either charges once or answers what it already did.
  case transient(String)
  /// Our request is wrong (invalid parameters, a refused key, a key reused with other parameters):
  /// retrying cannot help, an operator must act.
  case rejected(String)

  public var isTransient: Bool { if case .transient = self { true } else { false } }

  public var description: String {
    switch self {
    case .transient(let detail): "payment gateway unavailable for now (retry with the same idempotency key): \(detail)"
    case .rejected(let detail): "payment gateway refused the request (an operator must act): \(detail)"
    }
  }
}
