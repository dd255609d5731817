import ArgumentParser
import Foundation
import JobCatalog
import JobContracts
import JobQueue
import RedisClient
import Worker

struct Enqueue: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Enqueue a job (or --count copies of it).",
    discussion: """
      Examples:
        whago enqueue diag.sleep --payload '{"ms":500}' --delay 5s
        whago enqueue diag.noop --count 100000
        whago enqueue diag.echo --payload '{"message":"oi"}' --key order-42
      """)

  @OptionGroup var global: GlobalOptions

  @Argument(help: "The job type, as named in jobs/catalog.json.")
  var type: String

  @Option(help: "The job's parameters as a JSON object.")
  var payload: String = "{}"

  @Option(help: "Override the queue the catalog assigns to this type.")
  var queue: String?

  @Option(help: "Run after this long (250ms, 5s, 2m, 1h).")
  var delay: DurationArgument?

  @Option(help: "Run at this time (ISO 8601, e.g. 2026-12-01T09:00:00-03:00).")
  var at: String?

  @Option(help: "Idempotency key: a second enqueue with the same key within its window returns the first job.")
  var key: String?

  @Option(help: "Attempts before the job is dead-lettered (default: the catalog's).")
  var maxAttempts: Int?

  @Option(help: "The tenant whose work this is; tenants' ready jobs take turns.")
  var tenant: String?

  @Option(help: "Enqueue this many copies in bulk.")
  var count: Int = 1

  @Option(help: "With --count: enqueue one job at a time at this steady rate (jobs/s), as a load source.")
  var rate: Int?

  /// A load source for tenant lanes (scripts/bench tenants): many tenants' lanes taking turns.
  @Option(help: "With --count: spread the copies round robin over this many tenants (tenant-1 ... tenant-N).")
  var tenants: Int?

  @Flag(help: "Print JSON.")
  var json = false

  func validate() throws {
    if delay != nil && at != nil { throw ValidationError("use --delay or --at, not both") }
    if count < 1 { throw ValidationError("--count must be at least 1") }
    if count > 1 && key != nil {
      throw ValidationError("--key with --count would make every copy after the first a duplicate")
    }
    if let maxAttempts, maxAttempts < 1 { throw ValidationError("--max-attempts must be at least 1") }
    if let rate, rate < 1 { throw ValidationError("--rate must be at least 1 job/s") }
    if let tenants {
      if tenants < 1 { throw ValidationError("--tenants must be at least 1") }
      if tenant != nil { throw ValidationError("use --tenant or --tenants, not both") }
      if rate != nil { throw ValidationError("--tenants spreads a bulk enqueue; it does not combine with --rate") }
    }
  }

  func run() async throws {
    let catalog = try global.catalog()
    let policy = try catalog.policy(for: type)
    guard let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)), object is [String: Any] else {
      throw ValidationError("--payload must be a JSON object, e.g. '{\"ms\":500}'")
    }
    try PayloadContracts.all.validate(type: type, payload: payload)

    var when = JobSpec.When.now
    if let delay { when = .after(delay.duration) }
    if let at {
      guard let date = ISO8601DateFormatter().date(from: at) else {
        throw ValidationError("--at must be ISO 8601 with a zone, e.g. 2026-12-01T09:00:00-03:00")
      }
      when = .at(epochMilliseconds: Int64(date.timeIntervalSince1970 * 1000))
    }
    let spec = JobSpec(
      type: type, payload: payload, queue: queue ?? policy.queue, when: when,
      maxAttempts: maxAttempts ?? policy.maxAttempts, idempotencyKey: key,
      idempotencyWindow: policy.idempotencyWindow, tenant: tenant)
    try spec.validateQueueName()

    let redis = try global.client()
    defer { redis.close() }
    let broker = Broker(redis: redis, durability: catalog.durability)
    if count == 1 {
      let result = try await broker.enqueue(spec)
      if json {
        print(
          try JSONOutput.encode([
            "id": result.id, "state": result.state.rawValue, "duplicate": result.duplicate ? "true" : "false",
          ]))
      } else if result.duplicate {
        print("duplicate of \(result.id) (\(result.state.rawValue)): key '\(key ?? "")' was used within its window")
      } else {
        print("enqueued \(result.id) on \(spec.queue) (\(result.state.rawValue))")
      }
      return
    }
    let progress = Progress(total: count, label: "enqueued")
    let started = ContinuousClock.now
    var done = 0
    if let rate {
      // Steady load: job k goes out at start + k/rate, each its own enqueue, so latency is measured
      // per job rather than per batch.
      let clock = ContinuousClock()
      while done < count {
        try await clock.sleep(until: started + .nanoseconds(Int64(done) * 1_000_000_000 / Int64(rate)))
        _ = try await broker.enqueue(spec)
        done += 1
        progress.update(done)
      }
    }
    let batch = 20_000
    while done < count {
      let n = min(batch, count - done)
      var specs = [JobSpec](repeating: spec, count: n)
      if let tenants {
        for i in specs.indices { specs[i].tenant = "tenant-\((done + i) % tenants + 1)" }
      }
      _ = try await broker.enqueue(specs)
      done += n
      progress.update(done)
    }
    progress.finish()
    let seconds = Double((ContinuousClock.now - started).milliseconds) / 1000
    let rate = seconds > 0 ? Int(Double(count) / seconds) : count
    if json {
      print(
        try JSONOutput.encode(["enqueued": "\(count)", "queue": spec.queue, "seconds": String(format: "%.3f", seconds)])
      )
    } else {
      print("enqueued \(count) \(type) jobs on \(spec.queue) in \(String(format: "%.2f", seconds)) s (\(rate) jobs/s)")
    }
  }
}
