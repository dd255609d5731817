import Synchronization

/// Concurrent single enqueues share one script call per queue. The first caller sends its job at
/// once; whatever arrives while that round trip is in flight goes in the next call, together. Each
/// caller still waits for Redis to answer for its own job: nothing is acknowledged early.
///
/// Why: `POST /v1/jobs` under 64 concurrent clients paid one script call per request, with its
/// fixed costs (the clock, the counters, the doorbell, the durability WAIT) each time.
///
/// A plan's cap on scheduled jobs refuses a whole script and writes nothing, so a group refused
/// for it is sent again job by job: one tenant's full cap never refuses another tenant's job.
/// Any other failure fails every job of the group; callers retry as they would a lone enqueue.
public final class GroupCommit: Sendable {
  private struct Waiter {
    let spec: JobSpec
    let continuation: CheckedContinuation<EnqueueResult, any Error>
  }
  private struct State {
    var pending: [Waiter] = []
    var flushing = false
  }

  private let broker: Broker
  private let state = Mutex(State())
  /// The most jobs one group sends: one script per queue, kept short.
  static let maxGroup = 500

  public init(broker: Broker) {
    self.broker = broker
  }

  public func enqueue(_ spec: JobSpec) async throws -> EnqueueResult {
    try await withCheckedThrowingContinuation { continuation in
      let lead = state.withLock { state -> Bool in
        state.pending.append(Waiter(spec: spec, continuation: continuation))
        if state.flushing { return false }
        state.flushing = true
        return true
      }
      if lead { Task { await self.flush() } }
    }
  }

  private func flush() async {
    while true {
      let group = state.withLock { state -> [Waiter] in
        let group = Array(state.pending.prefix(Self.maxGroup))
        state.pending.removeFirst(group.count)
        if group.isEmpty { state.flushing = false }
        return group
      }
      if group.isEmpty { return }
      await commit(group)
    }
  }

  private func commit(_ group: [Waiter]) async {
    do {
      let results = try await broker.enqueue(group.map(\.spec), atomically: true)
      for (waiter, result) in zip(group, results) { waiter.continuation.resume(returning: result) }
    } catch let error as QueueError {
      guard case .scheduledCapReached = error, group.count > 1 else {
        for waiter in group { waiter.continuation.resume(throwing: error) }
        return
      }
      await withTaskGroup(of: Void.self) { tasks in
        for waiter in group {
          tasks.addTask {
            do {
              waiter.continuation.resume(returning: try await self.broker.enqueue(waiter.spec))
            } catch {
              waiter.continuation.resume(throwing: error)
            }
          }
        }
      }
    } catch let incomplete as EnqueueIncomplete {
      // Some queues' jobs went in, another's did not: each caller learns which of the two it is.
      var committed: [Int: EnqueueResult] = [:]
      for (index, result) in incomplete.committed { committed[index] = result }
      for (index, waiter) in group.enumerated() {
        if let result = committed[index] {
          waiter.continuation.resume(returning: result)
        } else {
          waiter.continuation.resume(throwing: incomplete.cause)
        }
      }
    } catch {
      for waiter in group { waiter.continuation.resume(throwing: error) }
    }
  }
}
