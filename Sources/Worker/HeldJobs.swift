import JobQueue
import Synchronization

/// The leases this worker holds: jobs running, and jobs finished but not yet acknowledged. The
/// lease keeper extends them; shutdown hands back the ones that never finished.
final class HeldJobs: Sendable {
  struct Entry: Sendable {
    let job: LeasedJob
    var finished: Bool
  }
  private let entries = Mutex<[String: Entry]>([:])

  func hold(_ job: LeasedJob) {
    entries.withLock { $0[job.id] = Entry(job: job, finished: false) }
  }

  func markFinished(_ id: String) {
    entries.withLock { $0[id]?.finished = true }
  }

  func release(_ ids: some Sequence<String>) {
    entries.withLock { entries in
      for id in ids { entries.removeValue(forKey: id) }
    }
  }

  var count: Int { entries.withLock { $0.count } }

  /// Held jobs grouped by queue, optionally only those still running.
  func byQueue(unfinishedOnly: Bool = false) -> [String: [(id: String, token: String)]] {
    entries.withLock { entries in
      var groups: [String: [(id: String, token: String)]] = [:]
      for entry in entries.values where !(unfinishedOnly && entry.finished) {
        groups[entry.job.queue, default: []].append((entry.job.id, entry.job.token))
      }
      return groups
    }
  }
}
