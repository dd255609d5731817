import Synchronization

/// How many PayPal deliveries are being checked with PayPal at once, across this server. Each
/// check is an outbound call that an unauthenticated POST can cause once its cheap checks pass,
/// so past `limit` a delivery is answered 503 at once (PayPal delivers it again) instead of
/// adding another call.
final class PayPalChecks: Sendable {
  static let limit = 16
  private let inFlight = Mutex(0)

  /// Takes a place, or false when all are taken.
  func enter() -> Bool {
    inFlight.withLock { count in
      guard count < Self.limit else { return false }
      count += 1
      return true
    }
  }

  func leave() {
    inFlight.withLock { $0 -= 1 }
  }
}
