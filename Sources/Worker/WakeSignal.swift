import Synchronization

/// A one-waiter wake-up flag: `fire` wakes the waiter, or the next `wait` returns at once if
/// nobody waits yet. Spurious wake-ups are allowed; waiters re-check their condition.
final class WakeSignal: Sendable {
  private struct State {
    var pending = false
    var waiter: CheckedContinuation<Void, Never>?
  }
  private let state = Mutex(State())

  func fire() {
    let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
      if let waiter = state.waiter {
        state.waiter = nil
        return waiter
      }
      state.pending = true
      return nil
    }
    waiter?.resume()
  }

  /// Waits for `fire`, for `timeout`, or for task cancellation, whichever comes first.
  func wait(timeout: Duration?) async {
    let timer = timeout.map { timeout in
      Task { [self] in
        // Only a timer that ran out wakes the waiter: a cancelled one (the wait ended early) must
        // not leave a stale wake-up behind, or every later wait would return at once.
        do {
          try await Task.sleep(for: timeout)
          fire()
        } catch {}
      }
    }
    defer { timer?.cancel() }
    await withTaskCancellationHandler {
      await withCheckedContinuation { continuation in
        let resumeNow = state.withLock { state -> Bool in
          if state.pending || Task.isCancelled {
            state.pending = false
            return true
          }
          state.waiter = continuation
          return false
        }
        if resumeNow { continuation.resume() }
      }
    } onCancel: {
      fire()
    }
  }
}
