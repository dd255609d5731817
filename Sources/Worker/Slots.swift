import Synchronization

/// Counts running handlers against the concurrency limit and wakes the fetcher when one frees.
final class Slots: Sendable {
  let limit: Int
  private let inUse = Mutex(0)
  private let freed: WakeSignal

  init(limit: Int, freed: WakeSignal) {
    self.limit = limit
    self.freed = freed
  }

  var free: Int { limit - inUse.withLock { $0 } }

  func take(_ n: Int) {
    inUse.withLock { $0 += n }
  }

  func release() {
    inUse.withLock { $0 -= 1 }
    freed.fire()
  }
}
