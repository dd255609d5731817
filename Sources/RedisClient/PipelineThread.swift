import Foundation
import Logging
import NativeThreads
import Synchronization

/// The connection's own thread: takes every queued request, writes them in one pipeline, reads
/// the replies, and reconnects with backoff when the socket breaks.
final class PipelineThread: @unchecked Sendable {
  private struct Request {
    let commands: [RedisCommand]
    let continuation: CheckedContinuation<[RedisValue], any Error>
  }

  private struct State {
    var pending: [Request] = []
    var closed = false
    /// The thread is (about to be) parked on `wakeup`; only then does a caller signal it.
    var sleeping = false
  }

  let url: RedisURL
  private let options: RedisClient.Options
  private let state = Mutex(State())
  private let wakeup = DispatchSemaphore(value: 0)
  private let logger: Logger
  /// Set once in `init`, read by `shutdown`.
  private var thread: JoinableThread?

  init(url: RedisURL, options: RedisClient.Options, logger: Logger) {
    self.url = url
    self.options = options
    self.logger = logger
    thread = JoinableThread(name: "whago.redis") { [self] in self.serve() }
  }

  /// Closes, then returns once the connection thread has freed its connection and exited.
  func shutdown() async {
    close()
    await thread?.join()
  }

  /// Stops the thread after the commands already queued; later calls fail with `.closed`.
  func close() {
    let signal = state.withLock { state -> Bool in
      state.closed = true
      defer { state.sleeping = false }
      return state.sleeping
    }
    if signal { wakeup.signal() }
  }

  /// Runs commands in one round trip and returns every reply, error replies included.
  func pipeline(_ commands: [RedisCommand]) async throws -> [RedisValue] {
    if commands.isEmpty { return [] }
    return try await withCheckedThrowingContinuation { continuation in
      let (accepted, signal) = state.withLock { state -> (Bool, Bool) in
        if state.closed { return (false, false) }
        state.pending.append(Request(commands: commands, continuation: continuation))
        let signal = state.sleeping
        state.sleeping = false
        return (true, signal)
      }
      if signal { wakeup.signal() }
      if !accepted {
        continuation.resume(throwing: RedisError(.closed, ""))
      }
    }
  }

  // MARK: Connection thread

  private func serve() {
    var connection: RedisConnection?
    var failures = 0
    var retryAt = ContinuousClock.now
    while true {
      let (batch, closed) = state.withLock { state -> ([Request], Bool) in
        let batch = state.pending
        state.pending.removeAll(keepingCapacity: true)
        if batch.isEmpty && !state.closed { state.sleeping = true }
        return (batch, state.closed)
      }
      if batch.isEmpty {
        if closed { return }
        wakeup.wait()
        continue
      }
      if connection == nil {
        if ContinuousClock.now < retryAt {
          fail(batch, RedisError(.connectFailed, "\(url): still reconnecting after \(failures) failed attempts"))
          continue
        }
        do {
          connection = try RedisConnection.connect(
            to: url, connectTimeout: options.connectTimeout, commandTimeout: options.commandTimeout)
          if failures > 0 { logger.info("reconnected to Redis", metadata: ["redis": "\(url)"]) }
          failures = 0
        } catch {
          failures += 1
          let backoff = min(50 * (1 << min(failures, 6)), 2_000)
          retryAt = ContinuousClock.now + .milliseconds(backoff)
          if failures == 1 || failures % 20 == 0 {
            logger.warning("cannot reach Redis", metadata: ["redis": "\(url)", "error": "\(error)"])
          }
          fail(batch, error)
          continue
        }
      }
      run(batch, on: &connection)
    }
  }

  private func run(_ batch: [Request], on connection: inout RedisConnection?) {
    var start = 0
    while start < batch.count, let live = connection {
      // Group requests up to the pipeline cap; a single oversized request still goes alone.
      var end = start
      var count = 0
      while end < batch.count, count == 0 || count + batch[end].commands.count <= options.maxPipeline {
        count += batch[end].commands.count
        end += 1
      }
      let slice = batch[start..<end]
      let commands = slice.flatMap(\.commands)
      do {
        let replies = try live.pipeline(commands)
        var offset = 0
        for request in slice {
          let n = request.commands.count
          request.continuation.resume(returning: Array(replies[offset..<offset + n]))
          offset += n
        }
        if case .sentinel = url.endpoint, replies.contains(where: \.isReadOnlyError) {
          // A failover made this server a replica while we stayed connected: the sentinels name
          // the new master at the next connection. The refused writes were not applied; their
          // callers see a transient error and retry.
          logger.warning(
            "Redis answered READONLY: the master became a replica; asking the sentinels again",
            metadata: ["redis": "\(url)"])
          connection = nil
        }
      } catch {
        logger.warning("Redis connection broke", metadata: ["redis": "\(url)", "error": "\(error)"])
        connection = nil
        fail(slice, error)
      }
      start = end
    }
    if start < batch.count {
      fail(batch[start...], RedisError(.connectionLost, "connection dropped before these commands were sent"))
    }
  }

  private func fail<C: Collection>(_ requests: C, _ error: any Error) where C.Element == Request {
    for request in requests { request.continuation.resume(throwing: error) }
  }
}
