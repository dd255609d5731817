/// A charge that got no usable answer, sorted by what the billing job must do next. Descriptions
/// name the gateway's endpoint and answer, never a key, token or Authorization header.
public enum PaymentError: Error, Sendable, Equatable, CustomStringConvertible {
  /// Timeout, connection trouble, 5xx, 429, or Stripe's 409 for a concurrent request with the same
  /// key. The charge may or may not have happened: retry with THE SAME idempotency key, and the
  /// gateway either charges once or answers what it already did.
  case transient(String)
  /// The gateway answered, and stored under the key, something that is not an outcome: a 5xx
  /// (Stripe replays those, 500s included, for 24 h) or a payment still processing. The same key
  /// only hears it again: look the charge up (`PaymentGateway.lookUp`) before charging again.
  case uncertain(String)
  /// Our request is wrong (invalid parameters, a refused key, a key reused with other parameters):
  /// retrying cannot help, an operator must act.
  case rejected(String)

  /// Worth retrying later (as a look-up first, for `.uncertain`).
  public var isTransient: Bool {
    switch self {
    case .transient, .uncertain: true
    case .rejected: false
    }
  }

  public var description: String {
    switch self {
    case .transient(let detail): "payment gateway unavailable for now (retry with the same idempotency key): \(detail)"
    case .uncertain(let detail):
      "payment gateway kept an answer that is not an outcome (the charge will be looked up before any retry): \(detail)"
    case .rejected(let detail): "payment gateway refused the request (an operator must act): \(detail)"
    }
  }
}
