import Foundation
import Synchronization

/// A POSIX thread for the C libraries' blocking calls (libpq, hiredis, libcurl), which must never
/// run on Swift's cooperative pool, that can be joined. Foundation's `Thread` is detached: a
/// process could reach its exit handlers while such a thread was still tearing down its
/// connection and its thread-local OpenSSL state, and crash there ("double free or corruption").
/// Joining waits until the thread is gone entirely.
public final class JoinableThread: Sendable {
  private let handle = Mutex<pthread_t?>(nil)

  private final class Start {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
  }

  /// Starts `body` on a new thread; nil when the system has no thread to give. `name` is for the
  /// reader of the code: the thread itself stays unnamed (see below).
  public init?(name: String, _ body: @escaping @Sendable () -> Void) {
    // Nothing of Foundation on the thread itself (not even `Thread.current.name`), as the pool's
    // threads always were: one CI run saw a one-shot command print its answer and then not exit
    // while its threads named themselves through Foundation, and that was the only change there.
    let start = Unmanaged.passRetained(Start(body)).toOpaque()
    var thread = pthread_t()
    guard
      pthread_create(
        &thread, nil,
        { argument in
          Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue().body()
          return nil
        }, start) == 0
    else {
      Unmanaged<Start>.fromOpaque(start).release()
      return nil
    }
    handle.withLock { $0 = thread }
  }

  /// Returns once the thread has exited (at once if it was already joined). Joining blocks, so it
  /// happens on a thread of its own, never on the cooperative pool.
  public func join() async {
    guard
      let thread = handle.withLock({ handle -> pthread_t? in
        defer { handle = nil }
        return handle
      })
    else { return }
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let joiner = Thread {
        pthread_join(thread, nil)
        continuation.resume()
      }
      joiner.start()
    }
  }

  /// Joins every thread of `threads`.
  public static func join(_ threads: [JoinableThread]) async {
    for thread in threads { await thread.join() }
  }
}
