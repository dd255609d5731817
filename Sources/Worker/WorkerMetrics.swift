import CoreMetrics
import Metrics
import Synchronization

/// The worker's counters, created once per queue and job type (metric lookups are not free at
/// tens of thousands of jobs a second).
final class WorkerMetrics: Sendable {
  struct Set: Sendable {
    let processed: Counter
    let failed: Counter
    let dead: Counter
    let duration: Metrics.Timer
  }
  private let sets = Mutex<[String: Set]>([:])
  let running = Meter(label: "whago_jobs_running")
  let fetches = Counter(label: "whago_fetches_total")
  let deferred = Counter(label: "whago_jobs_deferred_total")

  func set(queue: String, type: String) -> Set {
    let key = queue + "\u{0}" + type
    return sets.withLock { sets in
      if let set = sets[key] { return set }
      let dims = [("queue", queue), ("type", type)]
      let set = Set(
        processed: Counter(label: "whago_jobs_processed_total", dimensions: dims),
        failed: Counter(label: "whago_jobs_failed_total", dimensions: dims),
        dead: Counter(label: "whago_jobs_dead_total", dimensions: dims),
        duration: Metrics.Timer(label: "whago_job_duration_seconds", dimensions: dims, preferredDisplayUnit: .seconds))
      sets[key] = set
      return set
    }
  }
}
