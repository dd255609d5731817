import JobQueue
import Logging

/// Thrown at start when workers of another lease layout are alive on the same Redis.
///
/// Layout 1 kept a run's lease in the job's record and layout 2 keeps it in the queue's leases
/// hash, so the two would not see each other's leases: an earlier worker's recovery would requeue
/// a job this version runs without ending its lease, and the stale run could still ack it. Layout
/// 3 claims campaign messages without their text, and a layout 2 worker that took over one of
/// them in flight would send it empty.
public struct OtherLayoutWorkersRunning: Error, CustomStringConvertible {
  public let workers: [WorkerStatus]

  public var description: String {
    let names = workers.map { "\($0.name) (\($0.host), pid \($0.pid), lease layout \($0.leaseLayout ?? 1))" }
    return "workers of another whago version are running on this Redis: \(names.joined(separator: ", ")). "
      + "This one uses lease layout \(Broker.leaseLayout), and the two would misread each other's leases or "
      + "campaign claims. Stop them first (SIGTERM hands their jobs back at once; `whago workers` lists who is left), "
      + "then start this worker. See README, \"Upgrading\"."
  }
}

/// Refuses to start beside workers of another lease layout, earlier or later. A check that cannot reach Redis
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
    let other = live.filter { ($0.leaseLayout ?? 1) != Broker.leaseLayout }
    if !other.isEmpty { throw OtherLayoutWorkersRunning(workers: other) }
  }
}
