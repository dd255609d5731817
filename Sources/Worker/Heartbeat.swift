import Foundation
import JobQueue
import Logging

/// Tells Redis every few seconds that this worker is alive, what it serves and what it runs, so
/// operators (`whago workers`, the dashboard) see the pool; says goodbye on a clean stop.
struct Heartbeat {
  let broker: Broker
  let held: HeldJobs
  let configuration: WorkerConfiguration
  let interval: Duration
  let logger: Logger

  func run(until stopped: @Sendable () -> Bool) async {
    let host = ProcessInfo.processInfo.hostName
    var failures = 0
    var startedAt: Int64 = 0
    while !stopped() {
      do {
        let now = try await broker.heartbeat(status(host: host, startedAt: startedAt), lifetime: interval * 3)
        if startedAt == 0 { startedAt = now }
        failures = 0
      } catch {
        failures += 1
        if failures == 1 { logger.warning("heartbeat failed", metadata: ["error": "\(error)"]) }
      }
      try? await Task.sleep(for: interval)
    }
    _ = try? await broker.heartbeat(status(host: host, startedAt: startedAt), leaving: true)
  }

  private func status(host: String, startedAt: Int64) -> WorkerStatus {
    let jobs = held.ids(limit: 20)
    return WorkerStatus(
      name: configuration.name, host: host, pid: Int(getpid()), queues: configuration.queues.map(\.name),
      concurrency: configuration.concurrency, running: held.count, jobs: jobs, startedAt: startedAt)
  }
}
