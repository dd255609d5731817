import JobQueue
import Logging
import Synchronization

/// Batches acknowledgements and snoozes: jobs that finish (or snooze, to run again as the same
/// job) while a call is in flight are settled together in the next script call, one per queue and
/// kind, so a busy worker spends one round trip on many jobs. A job stays held (its lease
/// extended) until its call lands; calls that fail for a transient reason are retried, and an ack
/// or a snooze that already landed is harmless to repeat (the lease token no longer matches).
final class Completions: Sendable {
  /// What a queue's next calls settle.
  private struct Settlements {
    var acks: [(id: String, token: String)] = []
    var snoozes: [SnoozeRequest] = []
  }

  private let broker: Broker
  private let held: HeldJobs
  private let retention: @Sendable (String) -> Retention
  private let logger: Logger
  private let pending = Mutex<[String: Settlements]>([:])
  private let signal = WakeSignal()

  init(broker: Broker, held: HeldJobs, retention: @escaping @Sendable (String) -> Retention, logger: Logger) {
    self.broker = broker
    self.held = held
    self.retention = retention
    self.logger = logger
  }

  func add(_ job: LeasedJob) {
    pending.withLock { $0[job.queue, default: Settlements()].acks.append((job.id, job.token)) }
    signal.fire()
  }

  /// A handler's `Snooze`: the job comes back as itself `delay` after its call lands.
  func snooze(_ job: LeasedJob, for delay: Duration) {
    pending.withLock {
      $0[job.queue, default: Settlements()].snoozes.append(SnoozeRequest(id: job.id, token: job.token, delay: delay))
    }
    signal.fire()
  }

  /// Flushes until `stopped` returns true and nothing is pending.
  func run(until stopped: @Sendable () -> Bool) async {
    var failures = 0
    while true {
      let batch = pending.withLock { pending in
        defer { pending.removeAll() }
        return pending
      }
      if batch.isEmpty {
        if stopped() { return }
        await signal.wait(timeout: .milliseconds(200))
        continue
      }
      var retry: [String: Settlements] = [:]
      await withTaskGroup(of: (String, Settlements, (any Error)?).self) { group in
        for (queue, settlements) in batch {
          group.addTask {
            let (left, error) = await self.settle(queue: queue, settlements)
            return (queue, left, error)
          }
        }
        for await (queue, left, error) in group {
          if let error {
            retry[queue] = left
            if failures == 0 { logger.warning("ack or snooze failed; retrying", metadata: ["error": "\(error)"]) }
          }
        }
      }
      if retry.isEmpty {
        failures = 0
      } else {
        failures += 1
        if stopped() && failures >= 20 {
          // Shutting down and Redis stays away: the leases will expire and these jobs run again.
          logger.error(
            "giving up on acks and snoozes at shutdown; these jobs will run again after their lease expires",
            metadata: ["count": "\(retry.values.map { $0.acks.count + $0.snoozes.count }.reduce(0, +))"])
          return
        }
        pending.withLock { pending in
          for (queue, failed) in retry {
            pending[queue, default: Settlements()].acks.insert(contentsOf: failed.acks, at: 0)
            pending[queue, default: Settlements()].snoozes.insert(contentsOf: failed.snoozes, at: 0)
          }
        }
        try? await Task.sleep(for: .milliseconds(min(50 * failures, 1000)))
      }
    }
  }

  /// One queue's acks, then its snoozes, releasing the jobs each call settled. Returns what is
  /// left to retry (whatever a failed call carried) with that call's error.
  private func settle(queue: String, _ settlements: Settlements) async -> (left: Settlements, error: (any Error)?) {
    var left = settlements
    var failure: (any Error)?
    if !settlements.acks.isEmpty {
      do {
        let outcomes = try await broker.ack(queue: queue, settlements.acks, retention: retention(queue))
        do {
          try await broker.replicate(queue: queue)
        } catch {
          // Acked on the master; only a failover now could run these jobs again.
          logger.warning("acks not confirmed by the queue's replicas in time", metadata: ["error": "\(error)"])
        }
        let lost = zip(settlements.acks, outcomes).filter { $0.1 == .leaseLost }.map(\.0.id)
        if !lost.isEmpty {
          logger.warning(
            "finished jobs had lost their lease; another run owns them",
            metadata: ["queue": "\(queue)", "jobs": "\(lost.prefix(5))", "count": "\(lost.count)"])
        }
        held.release(settlements.acks.map(\.id))
        left.acks = []
      } catch {
        failure = error
      }
    }
    if !settlements.snoozes.isEmpty {
      do {
        let snoozed = try await broker.snooze(queue: queue, settlements.snoozes)
        let lost = zip(settlements.snoozes, snoozed).filter { !$0.1 }.map(\.0.id)
        if !lost.isEmpty {
          logger.warning(
            "runs snoozed after their lease was lost to another run; that run decides",
            metadata: ["queue": "\(queue)", "jobs": "\(lost.prefix(5))", "count": "\(lost.count)"])
        }
        held.release(leases: settlements.snoozes.map { ($0.id, $0.token) })
        left.snoozes = []
      } catch {
        failure = failure ?? error
      }
    }
    return (left, failure)
  }
}
