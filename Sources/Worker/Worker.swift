import CoreMetrics
import Foundation
import JobCatalog
import JobContracts
import JobQueue
import Logging
import RedisClient
import ServiceLifecycle
import Synchronization

/// One worker process's runtime: fetches leased jobs from its queues by weight, runs their handlers
/// concurrently, acknowledges or retries them, keeps their leases alive, sweeps expired leases, and
/// on graceful shutdown stops fetching, lets running jobs finish within the grace period and hands
/// the rest back at once.
public final class Worker: Service {
  private let configuration: WorkerConfiguration
  private let broker: Broker
  private let doorbell: Broker
  private let catalog: JobCatalog
  private let registry: HandlerRegistry
  private let planLimits: PlanLimitsProvider?
  private let logger: Logger

  private let wake = WakeSignal()
  private let held = HeldJobs()
  private let slots: Slots
  private let completions: Completions
  private let metrics = WorkerMetrics()
  private let runs = RunTally()
  private let stopping = Mutex(false)
  /// Set once every fetched job has finished or been handed back: only then may the acks stop.
  private let drained = Mutex(false)
  private let fetchCount = Mutex(0)

  public init(
    configuration: WorkerConfiguration, broker: Broker, doorbell: Broker, catalog: JobCatalog,
    registry: HandlerRegistry, planLimits: PlanLimitsProvider? = nil, logger: Logger
  ) {
    self.planLimits = planLimits
    self.configuration = configuration
    self.broker = broker
    self.doorbell = doorbell
    self.catalog = catalog
    self.registry = registry
    self.logger = logger
    self.slots = Slots(limit: configuration.concurrency, freed: wake)
    self.completions = Completions(
      broker: broker, held: held, retention: { [catalog] in catalog.queue($0).retention }, logger: logger)
  }

  private var isStopping: Bool { stopping.withLock { $0 } }

  public func run() async throws {
    try await UpgradeGate(broker: broker, logger: logger).check()
    let names = configuration.queues.map(\.name)
    logger.info(
      "worker started",
      metadata: [
        "queues": "\(configuration.queues.map { "\($0.name)=\($0.weight)" }.joined(separator: ","))",
        "concurrency": "\(configuration.concurrency)", "redis": "\(broker.redis.url)",
      ])
    let crashLimits = Dictionary(
      uniqueKeysWithValues: names.map { queue in
        (queue, catalog.jobs.values.filter { $0.queue == queue }.map(\.crashLimit).min() ?? 3)
      })
    let stopped: @Sendable () -> Bool = { self.isStopping }
    await withGracefulShutdownHandler {
      await withTaskGroup(of: Void.self) { background in
        background.addTask {
          await Doorbell(
            broker: self.doorbell, queues: names, signal: self.wake,
            logger: self.logger
          ).run(until: stopped)
        }
        background.addTask {
          await Heartbeat(
            broker: self.broker, held: self.held, configuration: self.configuration,
            interval: self.configuration.heartbeatInterval, logger: self.logger
          ).run(until: { self.drained.withLock { $0 } })
        }
        background.addTask {
          await Recoverer(
            broker: self.broker, queues: names, crashLimit: { crashLimits[$0] ?? 3 },
            interval: self.configuration.recoveryInterval, lease: self.configuration.lease, logger: self.logger
          ).run(until: stopped)
        }
        let keeper = Task {
          await LeaseKeeper(broker: self.broker, held: self.held, lease: self.configuration.lease, logger: self.logger)
            .run(until: { stopped() && self.held.count == 0 })
        }
        let watchdog = Task {
          await Watchdog(held: self.held, interval: .milliseconds(100)).run(until: { self.drained.withLock { $0 } })
        }
        let acks = Task { await self.completions.run(until: { self.drained.withLock { $0 } }) }
        let charts = Task { await self.writeRunStats(until: { self.drained.withLock { $0 } }) }

        await self.fetchAndRun()
        self.drained.withLock { $0 = true }

        // Everything started has finished or been handed back; flush the acks, then stop.
        await acks.value
        await charts.value
        keeper.cancel()
        watchdog.cancel()
        background.cancelAll()
      }
    } onGracefulShutdown: {
      self.stopping.withLock { $0 = true }
      self.wake.fire()
    }
    logger.info("worker stopped")
  }

  // MARK: Fetch loop

  private func fetchAndRun() async {
    await fetchUntilStopped()
    await finishOrHandBack()
  }

  /// Leases jobs from the queues in weighted order and starts each in a task of its own.
  private func fetchUntilStopped() async {
    let order = WeightedOrder(queues: configuration.queues)
    var rng = SystemRandomNumberGenerator()
    var failures = 0
    while !isStopping {
      guard slots.worthFetching else {
        await wake.wait(timeout: configuration.pollInterval)
        continue
      }
      let free = slots.free
      var started = 0
      var nextDue: Int64?
      do {
        for queue in order.next(using: &rng) where started < free {
          let result = try await broker.fetch(
            queue: queue, limit: free - started, lease: configuration.lease, token: nextToken())
          metrics.fetches.increment()
          if let due = result.nextDueIn { nextDue = min(nextDue ?? due, due) }
          if isStopping {
            // Shutdown arrived during the round trip: these never started, so they go back now.
            await handBack(result.jobs)
            break
          }
          // A batch's jobs are mostly of a few types: each type is looked up once per batch.
          var plans: [String: JobPlan] = [:]
          for job in result.jobs {
            let plan = plans[job.type] ?? plan(queue: queue, type: job.type)
            plans[job.type] = plan
            held.hold(job, timeout: plan.timeout)
            slots.take(1)
            started += 1
            held.attach(Task { await self.execute(job, plan) }, to: job.id)
          }
        }
        if failures > 0 { logger.info("Redis is back; fetching again") }
        failures = 0
      } catch {
        failures += 1
        if failures == 1 || failures % 50 == 0 {
          logger.error(
            "cannot fetch jobs; retrying until Redis answers",
            metadata: ["error": "\(error)", "attempt": "\(failures)"])
        }
        try? await Task.sleep(for: .milliseconds(min(50 * failures, 1000)))
        continue
      }
      if started == 0 {
        var timeout = configuration.pollInterval
        if let nextDue, nextDue < timeout.milliseconds { timeout = .milliseconds(nextDue) }
        if timeout > .zero { await wake.wait(timeout: timeout) }
      }
    }
  }

  /// Shutdown: running jobs get the grace period; then the rest are handed back at once (no attempt
  /// or crash charged) and their handlers cancelled.
  private func finishOrHandBack() async {
    let deadline = ContinuousClock.now + configuration.gracePeriod
    while slots.free < slots.limit && ContinuousClock.now < deadline {
      await wake.wait(timeout: .milliseconds(50))
    }
    let unfinished = held.byQueue(unfinishedOnly: true)
    if !unfinished.isEmpty {
      let count = unfinished.values.map(\.count).reduce(0, +)
      logger.notice("grace period over; handing back unfinished jobs", metadata: ["count": "\(count)"])
      for (queue, leases) in unfinished {
        do {
          try await broker.handBack(queue: queue, leases)
        } catch {
          logger.error(
            "cannot hand back jobs; they run again when their lease expires",
            metadata: ["queue": "\(queue)", "error": "\(error)"])
        }
      }
      held.cancelUnfinished()
      // Release after cancelling: the handlers see the cancellation, not a lost lease.
      held.release(unfinished.values.flatMap { $0.map(\.id) })
    }
    // Let the cancelled handlers unwind before the process moves on.
    let unwind = ContinuousClock.now + .seconds(5)
    while slots.free < slots.limit && ContinuousClock.now < unwind {
      await wake.wait(timeout: .milliseconds(20))
    }
  }

  private func nextToken() -> String {
    let n = fetchCount.withLock { count -> Int in
      count += 1
      return count
    }
    return "\(configuration.name):\(n)"
  }

  private func handBack(_ leased: [LeasedJob]) async {
    for (queue, group) in Dictionary(grouping: leased, by: \.queue) {
      _ = try? await broker.handBack(queue: queue, group.map { ($0.id, $0.token) })
    }
  }

  // MARK: Running one job

  /// What the worker needs to know of a job type to run it, found once per fetched batch.
  private func plan(queue: String, type: String) -> JobPlan {
    JobPlan(
      policy: Result { () throws(CatalogError) in try catalog.policy(for: type) }, runner: registry.runner(for: type),
      set: metrics.set(queue: queue, type: type))
  }

  private func execute(_ job: LeasedJob, _ plan: JobPlan) async {
    defer { slots.release() }
    let started = ContinuousClock.now
    let set = plan.set
    metrics.running.increment(by: 1)
    defer { metrics.running.decrement(by: 1) }

    if let corruption = job.corruption {
      await record(job, failure: "unrunnable: \(corruption)", permanent: true, set: set)
      return
    }
    let policy: JobCatalog.JobPolicy
    switch plan.policy {
    case .success(let found): policy = found
    case .failure(let error):
      await record(job, failure: "unrunnable: \(error)", permanent: true, set: set)
      return
    }
    guard let runner = plan.runner else {
      await record(
        job, failure: "this worker has no handler for \(job.type); deploy a worker that does", permanent: false,
        policy: policy, set: set)
      return
    }
    var tokensAt = job.tokensReservedFor
    if !policy.limits.isEmpty && tokensAt == nil {
      switch await takeTokens(job, policy: policy, set: set) {
      case .run(let at): tokensAt = at
      case .deferred: return
      }
    }
    let context = JobContext(
      id: job.id, queue: job.queue, type: job.type, attempt: job.attempts + 1, maxAttempts: job.maxAttempts,
      broker: broker, baseLogger: logger, tokensAt: tokensAt, leaseToken: job.token, lease: configuration.lease,
      leaseLost: { [held] in held.leaseLost(job.id, token: job.token) })
    do {
      try await runner(job.payload, context)
      if held.leaseLost(job.id, token: job.token) { throw LeaseLost(job: job.id) }
      if held.timedOut(job.id) { throw JobTimeout(limit: policy.timeout) }
      let (seconds, attoseconds) = (ContinuousClock.now - started).components
      set.duration.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
      tally(job, since: started, failed: false)
      set.processed.increment()
      held.markFinished(job.id)
      completions.add(job)
    } catch let snooze as Snooze where !held.leaseLost(job.id, token: job.token) {
      runAgain(job, after: snooze.delay, set: set)
    } catch {
      if held.leaseLost(job.id, token: job.token) || error is LeaseLost {
        // Another run owns the job: its outcome is that run's to record, not this one's.
        logger(for: job).warning("run stopped after its lease was lost to another run", metadata: ["error": "\(error)"])
        held.release(job.id, token: job.token)
        return
      }
      if held.timedOut(job.id) {
        tally(job, since: started, failed: true)
        await record(
          job, failure: "\(JobTimeout(limit: policy.timeout))", permanent: false, policy: policy, set: set)
        return
      }
      if isStopping && Task.isCancelled {
        // Cancelled by shutdown after the grace period: already handed back, no attempt charged.
        return
      }
      if registry.isOutage(error) {
        logger(for: job).warning(
          "a service the job needs is out of reach; it runs again without being charged an attempt",
          metadata: ["error": "\(error)", "in": "\(configuration.outagePause)"])
        runAgain(job, after: configuration.outagePause, set: set)
        return
      }
      let permanent = error is PermanentFailure || error is PayloadError
      tally(job, since: started, failed: true)
      await record(job, failure: "\(error)", permanent: permanent, policy: policy, set: set)
    }
  }

  /// Counts a run for the dashboard's charts, in Redis time: it began at its lease and ended
  /// `since` later by this process's monotonic clock.
  private func tally(_ job: LeasedJob, since started: ContinuousClock.Instant, failed: Bool) {
    let runtime = (ContinuousClock.now - started).milliseconds
    runs.record(
      queue: job.queue, type: job.type, failed: failed, runtimeMs: runtime, waitMs: job.leasedAt - job.readyAt,
      endedAt: job.leasedAt + runtime)
  }

  /// Adds the tallied runs to Redis about once a second, and once more at the end. A write that
  /// fails is kept for the next: the charts lag, they do not lose counts while this process lives.
  private func writeRunStats(until done: @Sendable () -> Bool) async {
    while true {
      let finished = done()
      let tally = runs.drain()
      if !tally.isEmpty {
        do {
          try await broker.addRunStats(tally)
        } catch {
          runs.restore(tally)
          if finished { return }
        }
      }
      if finished { return }
      // A second between writes, but no more than a tenth of one once the worker has drained.
      for _ in 0..<10 where !done() { try? await Task.sleep(for: .milliseconds(100)) }
    }
  }

  /// A logger that names the job. Built only when something is logged: setting metadata on a
  /// stream logger reformats it, which is not free at thousands of jobs a second.
  private func logger(for job: LeasedJob) -> Logger {
    JobContext.logger(logger, job: job.id, type: job.type, queue: job.queue)
  }

  /// A handler's `Snooze`: the same job comes back after `delay`, settled with other jobs'
  /// snoozes in one call (`Completions`). The job stays held, its lease kept, until that call lands.
  private func runAgain(_ job: LeasedJob, after delay: Duration, set: WorkerMetrics.Set) {
    set.processed.increment()
    completions.snooze(job, for: delay)
  }

  private enum TokenOutcome {
    case run(at: Int64)
    case deferred
  }

  /// Takes the job type's tokens, or defers the job to the moment they exist: not failed, no
  /// attempt charged, not spun on.
  private func takeTokens(_ job: LeasedJob, policy: JobCatalog.JobPolicy, set: WorkerMetrics.Set) async
    -> TokenOutcome
  {
    var plan: [String: Double?]?
    if policy.limits.contains(where: \.needsPlan) {
      guard let tenant = job.tenant, let planLimits else {
        let reason =
          job.tenant == nil
          ? "rate limit: \(job.type) reads the tenant's plan but the job has no tenant"
          : "rate limit: \(job.type) reads the tenant's plan; run workers with WHAGO_DATABASE_URL"
        await record(job, failure: reason, permanent: job.tenant == nil, policy: policy, set: set)
        return .deferred
      }
      do {
        plan = try await planLimits(tenant)
      } catch {
        logger(for: job).warning("cannot read the tenant's plan; handing the job back", metadata: ["error": "\(error)"])
        _ = try? await broker.handBack(queue: job.queue, [(job.id, job.token)])
        held.release([job.id])
        return .deferred
      }
    }
    let buckets: [TokenBucket]
    do {
      let object = try JSONSerialization.jsonObject(with: Data(job.payload.utf8)) as? [String: Any] ?? [:]
      buckets = try policy.limits.compactMap { try $0.resolve(payload: object, tenant: job.tenant, plan: plan) }
    } catch {
      await record(job, failure: "rate limit: \(error)", permanent: true, set: set)
      return .deferred
    }
    if buckets.isEmpty { return .run(at: 0) }
    do {
      let until: Int64
      let reserved: Bool
      switch try await broker.take(buckets) {
      case .granted(let at, let now):
        if at <= now { return .run(at: at) }
        (until, reserved) = (at, true)
      case .wait(let retryIn, let now):
        // A little jitter so that jobs waiting on one bucket do not all come back in the same instant.
        (until, reserved) = (now + retryIn + Int64.random(in: 0...min(100, retryIn / 10 + 1)), false)
      }
      metrics.deferred.increment()
      try await broker.defer(job, until: until, tokensReserved: reserved)
    } catch {
      logger(for: job).warning("cannot take rate-limit tokens; handing the job back", metadata: ["error": "\(error)"])
      _ = try? await broker.handBack(queue: job.queue, [(job.id, job.token)])
    }
    held.release([job.id])
    return .deferred
  }

  private func record(
    _ job: LeasedJob, failure: String, permanent: Bool, policy: JobCatalog.JobPolicy? = nil,
    set: WorkerMetrics.Set
  ) async {
    let log = logger(for: job)
    set.failed.increment()
    let retryAfter = permanent ? nil : (policy ?? catalog.jobs[job.type])?.backoff.delay(afterAttempt: job.attempts + 1)
    var attempt = 0
    while true {
      do {
        let outcome = try await broker.fail(
          job, error: failure, retryAfter: retryAfter ?? (permanent ? nil : .seconds(1)))
        switch outcome {
        case .retrying:
          log.warning("job failed; will retry", metadata: ["error": "\(failure)", "attempt": "\(job.attempts + 1)"])
        case .dead:
          set.dead.increment()
          log.error("job dead-lettered", metadata: ["error": "\(failure)", "attempt": "\(job.attempts + 1)"])
        case .leaseLost:
          log.warning(
            "run failed after its lease was lost to another run; that run decides", metadata: ["error": "\(failure)"])
        }
        held.release([job.id])
        return
      } catch {
        attempt += 1
        if attempt >= 20 || (isStopping && attempt >= 3) {
          log.error(
            "cannot record a failure; the job runs again when its lease expires", metadata: ["error": "\(error)"])
          held.release([job.id])
          return
        }
        try? await Task.sleep(for: .milliseconds(min(100 * attempt, 1000)))
      }
    }
  }
}
