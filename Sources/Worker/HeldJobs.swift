import JobContracts
import JobQueue
import Synchronization

/// The leases this worker holds: jobs running, and jobs finished but not yet acknowledged. The
/// lease keeper extends them, the watchdog cancels runs past their timeout, and shutdown hands
/// back the ones that never finished.
final class HeldJobs: Sendable {
  struct Entry: Sendable {
    let job: LeasedJob
    let deadline: ContinuousClock.Instant
    var task: Task<Void, Never>?
    var finished = false
    var timedOut = false
    var leaseLost = false
  }
  private let entries = Mutex<[String: Entry]>([:])

  func hold(_ job: LeasedJob, timeout: Duration) {
    entries.withLock { $0[job.id] = Entry(job: job, deadline: .now + timeout) }
  }

  /// Remembers the task running `id`, so that it can be cancelled.
  func attach(_ task: Task<Void, Never>, to id: String) {
    entries.withLock { $0[id]?.task = task }
  }

  func markFinished(_ id: String) {
    entries.withLock { $0[id]?.finished = true }
  }

  /// Marks runs whose lease went to another run and cancels them: they must stop their side
  /// effects (a handler also checks `JobContext.confirmLease()` before each one). A run is named
  /// by its lease token too, so a newer run of the same job, under its own lease, is left alone.
  func loseLeases(_ leases: some Sequence<(id: String, token: String)>) {
    let tasks = entries.withLock { entries -> [Task<Void, Never>] in
      var tasks: [Task<Void, Never>] = []
      for (id, token) in leases where entries[id]?.job.token == token {
        entries[id]?.leaseLost = true
        if let task = entries[id]?.task { tasks.append(task) }
      }
      return tasks
    }
    for task in tasks { task.cancel() }
  }

  /// Whether the run of `id` under lease `token` lost that lease (found by the lease keeper, or
  /// this worker fetched the job again under a new lease).
  func leaseLost(_ id: String, token: String) -> Bool {
    entries.withLock { entries in
      guard let entry = entries[id] else { return false }
      return entry.job.token != token || entry.leaseLost
    }
  }

  /// Forgets `id` if it is still held under `token` (not if a newer run holds it).
  func release(_ id: String, token: String) {
    release(leases: [(id, token)])
  }

  /// Forgets each job still held under its token. A snoozed job can be due at once and fetched
  /// again by this worker, under a new lease, before its snooze's call returns: that run stays held.
  func release(leases: some Sequence<(id: String, token: String)>) {
    entries.withLock { entries in
      for (id, token) in leases where entries[id]?.job.token == token { entries.removeValue(forKey: id) }
    }
  }

  func timedOut(_ id: String) -> Bool {
    entries.withLock { $0[id]?.timedOut ?? false }
  }

  func release(_ ids: some Sequence<String>) {
    entries.withLock { entries in
      for id in ids { entries.removeValue(forKey: id) }
    }
  }

  var count: Int { entries.withLock { $0.count } }

  /// Marks running jobs past their deadline as timed out and cancels their tasks.
  func cancelOverdue(now: ContinuousClock.Instant = .now) -> Int {
    let tasks = entries.withLock { entries -> [Task<Void, Never>] in
      var tasks: [Task<Void, Never>] = []
      for (id, entry) in entries where !entry.finished && !entry.timedOut && entry.deadline <= now {
        entries[id]?.timedOut = true
        if let task = entry.task { tasks.append(task) }
      }
      return tasks
    }
    for task in tasks { task.cancel() }
    return tasks.count
  }

  /// Cancels every running job's task (shutdown after the grace period).
  func cancelUnfinished() {
    let tasks = entries.withLock { $0.values.filter { !$0.finished }.compactMap(\.task) }
    for task in tasks { task.cancel() }
  }

  /// Up to `limit` held job ids, for the heartbeat.
  func ids(limit: Int) -> [String] {
    entries.withLock { Array($0.keys.prefix(limit)) }
  }

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
