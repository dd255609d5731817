import JobQueue
import Logging

/// Every worker sweeps its queues for expired leases about once a second: no leader, and a dead
/// worker's jobs come back as soon as their lease runs out. Running the script on several workers
/// at once is safe; each expired lease is taken by exactly one of them.
struct Recoverer: Sendable {
  let broker: Broker
  let queues: [String]
  let crashLimit: @Sendable (String) -> Int
  let interval: Duration
  /// This worker's lease: the grace a lease gets after an outage, in which its worker extends it.
  let lease: Duration
  let logger: Logger

  func run(until stopped: @Sendable () -> Bool) async {
    while !stopped() && !Task.isCancelled {
      for queue in queues {
        do {
          // Three sweeps missed in a row (3 s at least) mean Redis was away, not one slow worker.
          let result = try await broker.recover(
            queue: queue, crashLimit: crashLimit(queue), outageGap: max(interval * 3, .seconds(3)), grace: lease)
          if result.requeued > 0 || result.dead > 0 {
            logger.notice(
              "recovered jobs whose worker stopped responding",
              metadata: ["queue": "\(queue)", "requeued": "\(result.requeued)", "dead": "\(result.dead)"])
          }
        } catch {
          // The fetch loop reports Redis outages; stay quiet here.
        }
      }
      try? await Task.sleep(for: interval)
    }
  }
}
