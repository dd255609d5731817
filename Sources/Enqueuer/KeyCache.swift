import Synchronization

/// Remembers answers for a short time so a busy client does not turn every request into
/// PostgreSQL reads. The price: a revoked key or a plan change reaches this server after at most
/// `lifetime`.
///
/// Only answers `keeps` approves are remembered (for keys: those that found a principal), so a
/// client sending random keys neither fills the cache nor, when it is full, pushes good keys out:
/// a full cache first forgets what has expired, and otherwise remembers nothing new until it has.
final class KeyCache<Value: Sendable>: Sendable {
  private struct Entry {
    var value: Value
    var expires: ContinuousClock.Instant
  }

  private let entries = Mutex<[String: Entry]>([:])
  private let lifetime: Duration
  private let capacity: Int
  private let keeps: @Sendable (Value) -> Bool

  init(lifetime: Duration, capacity: Int = 10_000, keeps: @escaping @Sendable (Value) -> Bool) {
    self.lifetime = lifetime
    self.capacity = capacity
    self.keeps = keeps
  }

  func value(for key: String, load: () async throws -> Value) async throws -> Value {
    let now = ContinuousClock.now
    if lifetime > .zero, let hit = entries.withLock({ $0[key] }), hit.expires > now { return hit.value }
    let value = try await load()
    if lifetime > .zero, keeps(value) {
      entries.withLock { entries in
        if entries.count >= capacity, entries[key] == nil { entries = entries.filter { $0.value.expires > now } }
        if entries.count < capacity || entries[key] != nil {
          entries[key] = Entry(value: value, expires: now + lifetime)
        }
      }
    }
    return value
  }

  /// How many answers are remembered now.
  var count: Int { entries.withLock { $0.count } }
}

extension KeyCache {
  /// A cache of lookups that may find nothing: only what was found is remembered.
  static func found<Wrapped>(lifetime: Duration, capacity: Int = 10_000) -> KeyCache<Wrapped?> {
    KeyCache<Wrapped?>(lifetime: lifetime, capacity: capacity) { $0 != nil }
  }
}
