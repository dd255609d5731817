import JobQueue
import Logging

/// Extends the leases of every job this worker holds, every third of the lease duration, so a
/// long job is never recovered while its worker is alive, and a dead worker's jobs come back
/// within one lease duration.
struct LeaseKeeper: Sendable {
  let broker: Broker
  let held: HeldJobs
  let lease: Duration
  let logger: Logger

  func run(until stopped: @Sendable () -> Bool) async {
    while !stopped() && !Task.isCancelled {
      try? await Task.sleep(for: lease / 3)
      for (queue, jobs) in held.byQueue() {
        do {
          let lost = try await broker.extendLeases(queue: queue, jobs, by: lease)
          if !lost.isEmpty {
            // Another run has these jobs now: this worker's runs under the leases just extended
            // are stopped (fenced), and their outcomes are not recorded. Only those: a job that
            // failed, came back and was fetched again by this worker while the call was in
            // flight has a new run under a new lease, which is not lost.
            var tokens: [String: String] = [:]
            for job in jobs { tokens[job.id] = job.token }
            held.loseLeases(lost.compactMap { id in tokens[id].map { (id: id, token: $0) } })
            logger.warning(
              "lost leases of running jobs (this worker stalled past the lease, or an operator handed them back or cancelled them); their runs are stopped",
              metadata: ["queue": "\(queue)", "jobs": "\(lost.prefix(5))", "count": "\(lost.count)"])
          }
        } catch {
          logger.warning("cannot extend leases", metadata: ["queue": "\(queue)", "error": "\(error)"])
        }
      }
    }
  }
}
