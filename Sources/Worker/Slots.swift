import Synchronization

/// Counts running handlers against the concurrency limit and wakes the fetcher when a batch's
/// worth of slots is free (or all are), not on every completion: at tens of thousands of jobs a
/// second, a wake-up per job cost the fetcher a context switch and a timer each time, only for it
/// to find too few slots and wait again.
final class Slots: Sendable {
  let limit: Int
  /// The fewest free slots worth a fetch while some jobs still run: a quarter of the limit, so a
  /// busy worker pays one round trip per batch and an idle one starts a lone job at once.
  let batch: Int
  private let inUse = Mutex(0)
  private let freed: WakeSignal

  init(limit: Int, freed: WakeSignal) {
    self.limit = limit
    self.batch = max(1, limit / 4)
    self.freed = freed
  }

  var free: Int { limit - inUse.withLock { $0 } }

  /// Whether a fetch is worth its round trip now.
  var worthFetching: Bool {
    let free = self.free
    return free > 0 && (free >= batch || free == limit)
  }

  func take(_ n: Int) {
    inUse.withLock { $0 += n }
  }

  func release() {
    let free =
      limit
      - inUse.withLock { inUse in
        inUse -= 1
        return inUse
      }
    if free == batch || free == limit { freed.fire() }
  }
}
