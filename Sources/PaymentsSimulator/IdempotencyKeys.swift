import Payments
import Synchronization
import WAHASimulator

/// Each gateway's idempotency keys, as the gateways keep them: the first complete answer under a
/// key is stored and replayed to every later request with that key, so a retry never charges
/// twice. A key is claimed before the charge and completed after, so a duplicate that arrives in
/// between sees the claim. A request that fails validation never claims a key (Stripe saves no
/// result for those either).
final class IdempotencyKeys: Sendable {
  enum Claim: Equatable {
    /// First use: go ahead, then `complete`.
    case fresh
    /// Used before with the same parameters: answer this again, charge nothing.
    case replay(StoredReply)
    /// Used before with other parameters (only gateways that compare parameters report this).
    case mismatch
    /// The first request with this key is still being handled.
    case inProgress
  }

  struct StoredReply: Sendable, Equatable {
    var code: Int
    var body: JSON
  }

  private enum Entry {
    case claimed(fingerprint: String)
    case done(fingerprint: String, reply: StoredReply)
  }

  private struct Slot: Hashable {
    var gateway: String
    var key: String
  }

  private let entries = Mutex<[Slot: Entry]>([:])

  /// `fingerprint` identifies the request's parameters; with `compareParameters` false (Mercado
  /// Pago, PayPal) a key alone identifies the request and its first answer is replayed.
  func claim(_ gateway: Gateway, key: String, fingerprint: String, compareParameters: Bool) -> Claim {
    entries.withLock { entries in
      let slot = Slot(gateway: gateway.rawValue, key: key)
      switch entries[slot] {
      case nil:
        entries[slot] = .claimed(fingerprint: fingerprint)
        return .fresh
      case .claimed(let first):
        return compareParameters && first != fingerprint ? .mismatch : .inProgress
      case .done(let first, let reply):
        return compareParameters && first != fingerprint ? .mismatch : .replay(reply)
      }
    }
  }

  func complete(_ gateway: Gateway, key: String, reply: StoredReply) {
    entries.withLock { entries in
      let slot = Slot(gateway: gateway.rawValue, key: key)
      if case .claimed(let fingerprint) = entries[slot] {
        entries[slot] = .done(fingerprint: fingerprint, reply: reply)
      }
    }
  }
}
