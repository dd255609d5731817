import Foundation
import JobQueue
import Logging
import Store

/// One action over every job of a set (dead letters, scheduled jobs, retries) that a filter
/// matches: what the dashboard's "all matching" buttons do. It is counted before it is confirmed,
/// runs in chunks with its progress in the audit trail, and is safe to run again: each chunk's
/// script skips the ids that left the set meanwhile.
struct JobSetAction: Sendable, Equatable {
  enum JobSet: String, Sendable, CaseIterable {
    case dead, scheduled, retries

    var title: String {
      switch self {
      case .dead: "dead letters"
      case .scheduled: "scheduled jobs"
      case .retries: "jobs waiting to retry"
      }
    }

    var path: String { "/dashboard/\(rawValue)" }
    var waiting: WaitingKind? { WaitingKind(rawValue: rawValue) }
  }

  /// `run`: retry a dead job, or run a waiting one now. `remove`: delete a dead job for good, or
  /// cancel a waiting one.
  enum Verb: String, Sendable { case run, remove }

  var set: JobSet
  var verb: Verb
  /// One queue, or every queue with jobs in the set.
  var queue: String?
  var filter: JobFilter
  /// Dead retries only: job k of the action runs k × spread later, to spare a recovering dependency.
  var spread: Duration = .zero

  /// Ids one chunk (one script call) carries.
  static let chunk = 500
  /// The longest spread a form may ask for.
  static let longestSpread: Duration = .seconds(3600)

  init(set: JobSet, verb: Verb, queue: String?, filter: JobFilter, spread: Duration = .zero) {
    self.set = set
    self.verb = verb
    self.queue = queue
    self.filter = filter
    self.spread = spread
  }

  /// Reads an action from a form or query string; nil when its set or verb is not one we know.
  init?(_ fields: FormFields) {
    guard let set = fields["set"].flatMap(JobSet.init(rawValue:)),
      let verb = fields["verb"].flatMap(Verb.init(rawValue:))
    else { return nil }
    let ms = fields["spread_ms"].flatMap { Int64($0) } ?? 0
    self.init(
      set: set, verb: verb, queue: fields["queue"],
      filter: JobFilter(type: fields["type"], tenant: fields["tenant"], errorContains: fields["error"]),
      spread: set == .dead && verb == .run ? .milliseconds(min(max(0, ms), Self.longestSpread.milliseconds)) : .zero)
  }

  /// The audit trail's name for it: `dead.retry`, `scheduled.cancel`, `retries.run-now`, …
  var name: String {
    "\(set.rawValue).\(set == .dead ? (verb == .run ? "retry" : "delete") : (verb == .run ? "run-now" : "cancel"))"
  }

  /// The button's words.
  var label: String {
    switch (set, verb) {
    case (.dead, .run): "Retry"
    case (.dead, .remove): "Delete"
    case (_, .run): "Run now"
    case (_, .remove): "Cancel"
    }
  }

  /// What happens to each job, said before the operator confirms.
  var consequence: String {
    switch (set, verb) {
    case (.dead, .run):
      spread == .zero
        ? "Each goes back to its queue with a fresh attempt budget."
        : "Each goes back to its queue with a fresh attempt budget, one every \(spread.milliseconds) ms."
    case (.dead, .remove): "Each is deleted with its history, for good."
    case (_, .run): "Each becomes ready now, ahead of its queue's backlog, and takes its rate-limit tokens anew."
    case (_, .remove): "Each is cancelled and will not run; it stays readable until retention removes it."
    }
  }

  var destructive: Bool { verb == .remove }

  /// The set and filter in words, for the confirmation and the audit trail.
  var target: String {
    var parts = ["\(set.title) on \(queue.map { "queue \($0)" } ?? "every queue")"]
    if let type = filter.type { parts.append("type \(type)") }
    if let tenant = filter.tenant { parts.append("tenant \(tenant)") }
    if let error = filter.errorContains { parts.append("last error contains \"\(error)\"") }
    return parts.joined(separator: ", ")
  }

  /// The form fields that name this action again (for the confirmation's form and links).
  var fields: [(String, String)] {
    var out = [("set", set.rawValue), ("verb", verb.rawValue)]
    if let queue { out.append(("queue", queue)) }
    if let type = filter.type { out.append(("type", type)) }
    if let tenant = filter.tenant { out.append(("tenant", tenant)) }
    if let error = filter.errorContains { out.append(("error", error)) }
    if spread > .zero { out.append(("spread_ms", String(spread.milliseconds))) }
    return out
  }

  var query: String { fields.map { "\(urlComponent($0.0))=\(urlComponent($0.1))" }.joined(separator: "&") }

  /// The matching ids, per queue, as the set holds them now.
  func matching(_ broker: Broker) async throws -> [(queue: String, ids: [String])] {
    var queues: [String]
    if let queue {
      queues = [queue]
    } else {
      queues = try await broker.stats().filter { set == .dead ? $0.dead > 0 : $0.scheduled > 0 }.map(\.queue)
    }
    var out: [(String, [String])] = []
    for queue in queues.sorted() {
      let ids =
        if let kind = set.waiting {
          try await broker.waitingJobs(queue: queue, kind: kind, filter: filter).map(\.id)
        } else {
          try await broker.deadLetters(queue: queue, filter: filter).map(\.id)
        }
      if !ids.isEmpty { out.append((queue, ids)) }
    }
    return out
  }

  /// Acts on `ids` of `queue`; `before` is how many jobs this action handled already (the spread
  /// goes on from there). Returns how many were still in the set and changed.
  func apply(_ broker: Broker, queue: String, ids: [String], before: Int) async throws -> Int {
    switch (set, verb) {
    case (.dead, .run):
      try await broker.retryDead(queue: queue, ids: ids, delay: spread * before, spread: spread)
    case (.dead, .remove): try await broker.deleteDead(queue: queue, ids: ids)
    case (_, .run): try await broker.runNow(queue: queue, ids: ids)
    case (_, .remove): try await broker.cancelWaiting(queue: queue, ids: ids)
    }
  }

  /// Runs the action over `matches` in chunks, writing progress to audit entry `audit` after each,
  /// and ends the entry. Errors end it as failed; running it again picks up what is left.
  func run(
    _ matches: [(queue: String, ids: [String])], audit: Int64, broker: Broker, store: Store, logger: Logger
  ) async {
    var handled = 0
    var changed = 0
    do {
      for (queue, ids) in matches {
        for start in stride(from: 0, to: ids.count, by: Self.chunk) {
          let slice = Array(ids[start..<min(ids.count, start + Self.chunk)])
          changed += try await apply(broker, queue: queue, ids: slice, before: handled)
          handled += slice.count
          try await store.progressDashboardAction(id: audit, done: changed)
        }
      }
      try await store.finishDashboardAction(id: audit, done: changed)
    } catch {
      logger.error(
        "dashboard bulk action failed", metadata: ["action": "\(name)", "audit": "\(audit)", "error": "\(error)"])
      try? await store.finishDashboardAction(
        id: audit, done: changed, error: "stopped after \(changed) jobs: \(error); run it again to finish")
    }
  }
}
