import Dispatch
import Foundation
import Synchronization

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

extension URLSession {
  /// Sends `request` and returns the response's status, cancellable without deadlocking.
  ///
  /// On Linux, `data(for:)` cancels its task from inside the Swift task's cancellation handler, and
  /// `URLSessionTask.cancel()` waits for the session's queue while that queue may be resuming the very
  /// continuation, which waits for the handler's lock: shutting down with deliveries in flight hung
  /// the process. Here the cancel runs on another queue, after the handler has returned.
  func status(of request: URLRequest) async throws -> Int {
    let handle = DataTaskHandle()
    return try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { continuation in
        let task = dataTask(with: request) { _, response, error in
          if let error {
            continuation.resume(throwing: error)
          } else {
            continuation.resume(returning: (response as? HTTPURLResponse)?.statusCode ?? 0)
          }
        }
        handle.start(task)
      }
    } onCancel: {
      DispatchQueue.global().async { handle.cancel() }
    }
  }
}

/// The data task of one request, which a cancellation may reach before the task exists.
private final class DataTaskHandle: Sendable {
  private let state = Mutex<(task: URLSessionDataTask?, cancelled: Bool)>((nil, false))

  func start(_ task: URLSessionDataTask) {
    let cancelled = state.withLock {
      $0.task = task
      return $0.cancelled
    }
    task.resume()
    if cancelled { task.cancel() }
  }

  func cancel() {
    let task = state.withLock {
      $0.cancelled = true
      return $0.task
    }
    task?.cancel()
  }
}
