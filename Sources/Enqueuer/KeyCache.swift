import Synchronization

/// Remembers answers for a short time so a busy client does not turn every request into
/// PostgreSQL reads. The price: a revoked key or a plan change reaches this server after at most
/// `lifetime`.
final class KeyCache<Value: Sendable>: Sendable {
  private struct Entry {
    var value: Value
    var expires: ContinuousClock.Instant
  }

  private let entries = Mutex<[String: Entry]>([:])
  private let lifetime: Duration
  private let capacity: Int

  init(lifetime: Duration, capacity: Int = 10_000) {
    self.lifetime = lifetime
    self.capacity = capacity
  }

  func value(for key: String, load: () async throws -> Value) async throws -> Value {
    let now = ContinuousClock.now
    if lifetime > .zero, let hit = entries.withLock({ $0[key] }), hit.expires > now { return hit.value }
    let value = try await load()
    if lifetime > .zero {
      entries.withLock { entries in
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[key] = Entry(value: value, expires: now + lifetime)
      }
    }
    return value
  }
}
