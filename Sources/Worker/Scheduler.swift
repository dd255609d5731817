import Foundation
import JobCatalog
import JobQueue
import Logging
import ServiceLifecycle

/// Fires the catalog's cron schedules. Every worker process runs one; each slot still fires exactly
/// once, because firing is a compare-and-set in Redis (see `Broker.fireCron`). Slots are decided by
/// Redis time and fired up to `lead` ahead as delayed jobs, so they start at the slot's time even
/// when the queue is backed up.
public struct Scheduler: Service {
  let broker: Broker
  let schedules: [JobCatalog.Schedule]
  let catalog: JobCatalog
  let lead: Duration
  /// The time slots are read in: Redis time, or a faster clock for tests and demos.
  let clock: ScheduleClock
  let logger: Logger

  public init(
    broker: Broker, catalog: JobCatalog, lead: Duration = .seconds(1), clock: ScheduleClock = .redis, logger: Logger
  ) {
    self.broker = broker
    self.catalog = catalog
    self.schedules = catalog.schedules
    self.lead = lead
    self.clock = clock
    self.logger = logger
  }

  public func run() async throws {
    if schedules.isEmpty { return }
    logger.info("scheduler started", metadata: ["schedules": "\(schedules.map(\.name).joined(separator: ","))"])
    var failures = 0
    while !Task.isCancelled && !Task.isShuttingDownGracefully {
      var wait = Duration.seconds(1)
      do {
        for schedule in schedules {
          wait = min(wait, try await tick(schedule))
        }
        failures = 0
      } catch {
        failures += 1
        if failures == 1 { logger.warning("scheduler cannot reach Redis; retrying", metadata: ["error": "\(error)"]) }
        wait = .milliseconds(min(100 * failures, 1000))
      }
      let pause = max(wait, .milliseconds(5))
      try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
    }
  }

  /// Handles what is due of one schedule and returns how long until it needs looking at again.
  /// Slots, the last slot and the missed tolerance are in schedule time; the lead, due times and
  /// waits are in Redis time (the same unless `clock` runs faster).
  func tick(_ schedule: JobCatalog.Schedule) async throws -> Duration {
    let real = try await broker.redisTime()
    let now = clock.scheduleTime(redis: real)
    let last = try await broker.cronStart(name: schedule.name, queue: schedule.queue, now: now)
    guard let next = slot(after: last, schedule) else { return .seconds(60) }
    let leadMs = lead.milliseconds
    // A slot older than the schedule's tolerance passed while no scheduler ran: it is missed.
    let missedBefore = now - schedule.missedAfter.milliseconds
    if next < missedBefore {
      // The whole backlog up to now is one missed period: folding the recent (still tolerable)
      // slots in too leaves no late slot for a second scheduler, a moment later, to count as
      // missed again.
      var latest = next
      var count = 1
      while let later = slot(after: latest, schedule), later <= now, count < 1_000_000 {
        latest = later
        count += 1
      }
      let skip = schedule.missed == .skip
      // A made-up run is due now: its slot is long past.
      let outcome = try await broker.fireCron(
        name: schedule.name, slot: latest, due: clock.isRedisTime ? latest : real, mode: skip ? .skip : .catchUp,
        lead: lead, job: job(for: schedule))
      if outcome != .alreadyHandled {
        logger.notice(
          skip ? "skipped missed cron slots" : "made up missed cron slots with one run",
          metadata: ["schedule": "\(schedule.name)", "missed": "\(count)", "outcome": "\(outcome)"])
      }
      return .zero
    }
    let due = clock.redisTime(schedule: next)
    if due - real <= leadMs {
      _ = try await broker.fireCron(
        name: schedule.name, slot: next, due: due, mode: .fire, lead: lead, job: job(for: schedule))
      try await broker.cronNote(name: schedule.name, queue: schedule.queue, next: slot(after: next, schedule))
      return .zero
    }
    try await broker.cronNote(name: schedule.name, queue: schedule.queue, next: next)
    return .milliseconds(due - real - leadMs)
  }

  private func slot(after epochMs: Int64, _ schedule: JobCatalog.Schedule) -> Int64? {
    schedule.cron.next(after: Date(timeIntervalSince1970: Double(epochMs) / 1000), in: schedule.timeZone)
      .map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
  }

  private func job(for schedule: JobCatalog.Schedule) -> JobSpec {
    JobSpec(
      type: schedule.jobType, payload: schedule.payload, queue: schedule.queue,
      maxAttempts: catalog.jobs[schedule.jobType]?.maxAttempts ?? 25)
  }
}
