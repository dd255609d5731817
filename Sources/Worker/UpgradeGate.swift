import JobQueue
import Logging

/// Thrown at start when workers of an earlier version are alive on the same Redis.
///
/// Their scripts keep a run's lease in the job's record and this version's keep it in the queue's
/// leases hash, so the two would not see each other's leases: an earlier worker's recovery would
/// requeue a job this version runs without ending its lease, and the stale run could still ack it.
public struct EarlierWorkersRunning: Error, CustomStringConvertible {
  public let workers: [WorkerStatus]

  public var description: String {
    let names = workers.map { "\($0.name) (\($0.host), pid \($0.pid))" }.joined(separator: ", ")
    return "workers of an earlier whago version are running on this Redis: \(names). They keep leases "
      + "where this version does not look. Stop them first (SIGTERM hands their jobs back at once; "
      + "`whago workers` lists who is left), then start this worker. See README, \"Upgrading\"."
  }
}

/// Refuses to start beside workers of an earlier lease layout. A check that cannot reach Redis
/// lets the worker start: its loops wait for Redis as they always do.
struct UpgradeGate {
  let broker: Broker
  let logger: Logger

  func check() async throws {
    let live: [WorkerStatus]
    do {
      live = try await broker.workers()
    } catch {
      logger.warning("could not read the live workers to check their version", metadata: ["error": "\(error)"])
      return
    }
    let earlier = live.filter { ($0.leaseLayout ?? 1) < Broker.leaseLayout }
    if !earlier.isEmpty { throw EarlierWorkersRunning(workers: earlier) }
  }
}
