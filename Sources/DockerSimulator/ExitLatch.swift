import Foundation
import Synchronization

/// How a container's main process ended.
enum ExitStatus: Sendable, Equatable {
  case exited(Int32)
  case signaled(Int32)

  /// Docker's exit code: the status, or 128 + the signal (137 for SIGKILL, 143 for SIGTERM).
  var code: Int {
    switch self {
    case .exited(let status): Int(status)
    case .signaled(let signal): 128 + Int(signal)
    }
  }
}

/// Opened once, when a process has exited and been reaped; any number of tasks wait on it. Waits
/// ignore task cancellation on purpose: a stop already begun (SIGTERM sent) is carried to its end,
/// and a shutting-down simulator must still see its children die before it exits.
final class ExitLatch: Sendable {
  private struct State {
    var status: ExitStatus?
    var waiters: [Int: CheckedContinuation<ExitStatus?, Never>] = [:]
    var nextWaiter = 0
  }
  private let state = Mutex(State())

  func open(_ status: ExitStatus) {
    let waiters = state.withLock { state -> [CheckedContinuation<ExitStatus?, Never>] in
      guard state.status == nil else { return [] }
      state.status = status
      defer { state.waiters = [:] }
      return Array(state.waiters.values)
    }
    waiters.forEach { $0.resume(returning: status) }
  }

  var status: ExitStatus? { state.withLock { $0.status } }

  /// The exit status, once there is one.
  func wait() async -> ExitStatus {
    // Without a limit the answer is never nil.
    await wait(upTo: nil)!
  }

  /// The exit status, or nil if the process is still running after `limit`.
  func wait(upTo limit: Duration?) async -> ExitStatus? {
    await withCheckedContinuation { continuation in
      let id = state.withLock { state -> Int? in
        if state.status != nil { return nil }
        state.nextWaiter += 1
        state.waiters[state.nextWaiter] = continuation
        return state.nextWaiter
      }
      guard let id else {
        continuation.resume(returning: status)
        return
      }
      if let limit {
        let seconds = Double(limit.components.seconds) + Double(limit.components.attoseconds) / 1e18
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
          let expired = state.withLock { $0.waiters.removeValue(forKey: id) }
          expired?.resume(returning: nil)
        }
      }
    }
  }
}
