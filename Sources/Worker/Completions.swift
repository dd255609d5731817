import JobQueue
import Logging
import Synchronization

/// Batches acknowledgements: jobs that finish while an ack is in flight are acknowledged together
/// in the next script call, one per queue, so a busy worker spends one round trip on many jobs.
/// A job stays held (its lease extended) until its ack lands; acks that fail for a transient
/// reason are retried, and an ack that already landed is harmless to repeat.
final class Completions: Sendable {
  private let broker: Broker
  private let held: HeldJobs
  private let retention: @Sendable (String) -> Retention
  private let logger: Logger
  private let pending = Mutex<[String: [(id: String, token: String)]]>([:])
  private let signal = WakeSignal()

  init(broker: Broker, held: HeldJobs, retention: @escaping @Sendable (String) -> Retention, logger: Logger) {
    self.broker = broker
    self.held = held
    self.retention = retention
    self.logger = logger
  }

  func add(_ job: LeasedJob) {
    pending.withLock { $0[job.queue, default: []].append((job.id, job.token)) }
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
      var retry: [String: [(id: String, token: String)]] = [:]
      await withTaskGroup(of: (String, [(id: String, token: String)], (any Error)?).self) { group in
        for (queue, jobs) in batch {
          group.addTask {
            do {
              let outcomes = try await self.broker.ack(queue: queue, jobs, retention: self.retention(queue))
              do {
                try await self.broker.replicate(queue: queue)
              } catch {
                // Acked on the master; only a failover now could run these jobs again.
                self.logger.warning(
                  "acks not confirmed by the queue's replicas in time", metadata: ["error": "\(error)"])
              }
              let lost = zip(jobs, outcomes).filter { $0.1 == .leaseLost }.map(\.0.id)
              if !lost.isEmpty {
                self.logger.warning(
                  "finished jobs had lost their lease; another run owns them",
                  metadata: ["queue": "\(queue)", "jobs": "\(lost.prefix(5))", "count": "\(lost.count)"])
              }
              return (queue, jobs, nil)
            } catch {
              return (queue, jobs, error)
            }
          }
        }
        for await (queue, jobs, error) in group {
          if let error {
            retry[queue, default: []].append(contentsOf: jobs)
            if failures == 0 { logger.warning("ack failed; retrying", metadata: ["error": "\(error)"]) }
          } else {
            held.release(jobs.map(\.id))
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
            "giving up on acks at shutdown; these jobs will run again after their lease expires",
            metadata: ["count": "\(retry.values.map(\.count).reduce(0, +))"])
          return
        }
        pending.withLock { pending in
          for (queue, jobs) in retry { pending[queue, default: []].insert(contentsOf: jobs, at: 0) }
        }
        try? await Task.sleep(for: .milliseconds(min(50 * failures, 1000)))
      }
    }
  }
}
