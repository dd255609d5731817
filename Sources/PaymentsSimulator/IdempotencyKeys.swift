import Payments
import Synchronization
import Wire

/// Each gateway's idempotency keys, as the gateways keep them: the first complete answer under a
/// key is stored and replayed to every later request with that key, so a retry never charges
/// twice. A key is claimed before the charge and completed after, so a duplicate that arrives in
/// between sees the claim. A request that fails validation never claims a key (Stripe saves no
/// result for those either). A key older than the window is pruned: the next request with it is
/// new, and charges again, which is why a client must not trust a key for longer.
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
    var body: JSONValue
  }

  private enum Entry {
    case claimed(fingerprint: String, at: Int64)
    case done(fingerprint: String, reply: StoredReply, at: Int64)

    var at: Int64 {
      switch self {
      case .claimed(_, let at), .done(_, _, let at): at
      }
    }
  }

  private struct Slot: Hashable {
    var gateway: String
    var key: String
  }

  private let entries = Mutex<[Slot: Entry]>([:])

  /// `fingerprint` identifies the request's parameters; with `compareParameters` false (Mercado
  /// Pago, PayPal) a key alone identifies the request and its first answer is replayed.
  /// `window`: how long a key is remembered (milliseconds from its first use).
  func claim(
    _ gateway: Gateway, key: String, fingerprint: String, compareParameters: Bool, window: Int64 = .max
  ) -> Claim {
    entries.withLock { entries in
      let slot = Slot(gateway: gateway.rawValue, key: key)
      let now = Int64(nowMilliseconds())
      if let entry = entries[slot], now - entry.at >= window { entries[slot] = nil }
      switch entries[slot] {
      case nil:
        entries[slot] = .claimed(fingerprint: fingerprint, at: now)
        return .fresh
      case .claimed(let first, _):
        return compareParameters && first != fingerprint ? .mismatch : .inProgress
      case .done(let first, let reply, _):
        return compareParameters && first != fingerprint ? .mismatch : .replay(reply)
      }
    }
  }

  func complete(_ gateway: Gateway, key: String, reply: StoredReply) {
    entries.withLock { entries in
      let slot = Slot(gateway: gateway.rawValue, key: key)
      if case .claimed(let fingerprint, let at) = entries[slot] {
        entries[slot] = .done(fingerprint: fingerprint, reply: reply, at: at)
      }
    }
  }
}
