import Foundation
import JobQueue
import Wire

extension JobCatalog {
  /// Finds jobs/catalog.json: `directory` if given (flag or WHAGO_JOBS_DIR), else ./jobs, else a
  /// jobs/ folder above the running executable (so a built binary finds its checkout's catalog).
  public static func locate(directory: String?) throws(CatalogError) -> String {
    var candidates: [String] = []
    if let directory, !directory.isEmpty {
      candidates.append(directory)
    } else {
      candidates.append(FileManager.default.currentDirectoryPath + "/jobs")
      var url = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        .deletingLastPathComponent()
      for _ in 0..<6 {
        candidates.append(url.appendingPathComponent("jobs").path)
        url = url.deletingLastPathComponent()
      }
    }
    let files = candidates.map { $0 + "/catalog.json" }
    guard let found = files.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
      throw .notFound(searched: directory == nil ? Array(files.prefix(2)) : files)
    }
    return found
  }

  public static func load(directory: String?) throws(CatalogError) -> JobCatalog {
    let path = try locate(directory: directory)
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw .unreadable(path: path, reason: "\(error.localizedDescription)")
    }
    return try parse(data, source: path)
  }

  public static func parse(_ data: Data, source: String) throws(CatalogError) -> JobCatalog {
    let file: CatalogFile
    do {
      file = try WireJSON.decoder.decode(CatalogFile.self, from: data)
    } catch {
      throw .invalid(path: source, reason: "\(error)")
    }
    var queues: [String: QueueInfo] = [:]
    for (name, q) in file.queues {
      guard (try? checkName(name)) != nil else { throw .invalid(path: source, reason: "bad queue name '\(name)'") }
      guard q.weight >= 1 else { throw .invalid(path: source, reason: "queue \(name): weight must be at least 1") }
      let dead = JobCatalog.defaultDeadRetention
      queues[name] = QueueInfo(
        name: name, weight: q.weight,
        retention: Retention(
          age: .milliseconds(q.retention?.ageMs ?? 3_600_000), count: q.retention?.count ?? 10_000),
        deadRetention: Retention(
          age: q.deadRetention?.ageMs.map { .milliseconds($0) } ?? dead.age,
          count: q.deadRetention?.count ?? dead.count),
        durability: try q.durability.map { d throws(CatalogError) in
          guard d.replicas >= 1, (1...60_000).contains(d.timeoutMs) else {
            throw .invalid(
              path: source, reason: "queue \(name): durability needs replicas >= 1 and timeout_ms from 1 to 60000")
          }
          return Durability(replicas: d.replicas, timeout: .milliseconds(d.timeoutMs))
        })
    }
    let d = file.defaults
    var jobs: [String: JobPolicy] = [:]
    for (type, j) in file.jobs {
      guard queues[j.queue] != nil else {
        throw .invalid(path: source, reason: "job \(type) names queue '\(j.queue)', which is not under \"queues\"")
      }
      let backoff = j.backoff ?? d?.backoff
      let policy = JobPolicy(
        type: type, queue: j.queue, maxAttempts: j.maxAttempts ?? d?.maxAttempts ?? 25,
        backoff: Backoff(
          base: .milliseconds(backoff?.baseMs ?? 1000), cap: .milliseconds(backoff?.capMs ?? 3_600_000)),
        timeout: .milliseconds(j.timeoutMs ?? d?.timeoutMs ?? 300_000),
        crashLimit: j.crashLimit ?? d?.crashLimit ?? 3,
        idempotencyWindow: .milliseconds(j.idempotencyWindowMs ?? d?.idempotencyWindowMs ?? 86_400_000),
        submitters: try submitters(j.submit, type: type, source: source),
        limits: try (j.limits ?? []).map { limit throws(CatalogError) in
          do {
            return try LimitTemplate(bucket: limit.bucket, capacity: limit.capacity, perSecond: limit.perSecond)
          } catch {
            throw .invalid(path: source, reason: "job \(type): \(error)")
          }
        })
      if j.submittable != nil || d?.submittable != nil {
        throw .invalid(
          path: source,
          reason:
            "job \(type): \"submittable\" was replaced by \"submit\": \"operators\" (service keys) or \"tenants\"")
      }
      guard policy.maxAttempts >= 1, policy.crashLimit >= 1, policy.timeout > .zero else {
        throw .invalid(path: source, reason: "job \(type): attempts, crash limit and timeout must be positive")
      }
      jobs[type] = policy
    }
    var schedules: [Schedule] = []
    for (name, entry) in (file.schedules ?? [:]).sorted(by: { $0.key < $1.key }) {
      func invalid(_ reason: String) -> CatalogError { .invalid(path: source, reason: "schedule \(name): \(reason)") }
      guard let policy = jobs[entry.job] else { throw invalid("job type '\(entry.job)' is not under \"jobs\"") }
      let cron: CronExpression
      do { cron = try CronExpression(entry.cron) } catch { throw invalid("\(error)") }
      let zoneName = entry.timezone ?? "America/Sao_Paulo"
      guard let zone = TimeZone(identifier: zoneName) else { throw invalid("unknown timezone '\(zoneName)'") }
      guard let missed = Schedule.MissedSlots(rawValue: entry.missed ?? "run_once") else {
        throw invalid("missed must be \"skip\" or \"run_once\"")
      }
      var payload = "{}"
      if let object = entry.payload {
        guard let data = try? JSONEncoder().encode(object) else { throw invalid("payload is not JSON") }
        payload = String(decoding: data, as: UTF8.self)
      }
      schedules.append(
        Schedule(
          name: name, cron: cron, timeZone: zone, jobType: entry.job, payload: payload,
          queue: entry.queue ?? policy.queue, missed: missed,
          missedAfter: .milliseconds(max(1000, entry.missedAfterMs ?? 60_000))))
    }
    return JobCatalog(queues: queues, jobs: jobs, schedules: schedules, source: source)
  }

  private static func submitters(
    _ text: String?, type: String, source: String
  ) throws(CatalogError) -> JobCatalog.Submitters {
    guard let text else { return .nobody }
    guard let found = JobCatalog.Submitters(rawValue: text), found != .nobody else {
      throw .invalid(
        path: source, reason: "job \(type): submit must be \"operators\" or \"tenants\" (leave it out for neither)")
    }
    return found
  }

  private static func checkName(_ name: String) throws {
    try JobSpec(type: "x", queue: name).validateQueueName()
  }
}

/// The file's shape; its snake_case keys (as written in jobs/catalog.json) are these names
/// through `WireJSON`.
private struct CatalogFile: Decodable {
  struct BackoffFile: Decodable {
    var baseMs: Int64?
    var capMs: Int64?
  }
  struct RetentionFile: Decodable {
    var ageMs: Int64?
    var count: Int?
  }
  struct QueueFile: Decodable {
    var weight: Int
    var retention: RetentionFile?
    var deadRetention: RetentionFile?
    var durability: DurabilityFile?
  }
  struct DurabilityFile: Decodable {
    var replicas: Int
    var timeoutMs: Int64
  }
  struct JobFile: Decodable {
    var queue: String
    var maxAttempts: Int?
    var backoff: BackoffFile?
    var timeoutMs: Int64?
    var crashLimit: Int?
    var idempotencyWindowMs: Int64?
    var submit: String?
    /// Replaced by `submit`; read only to refuse a catalog that still uses it.
    var submittable: Bool?
    var limits: [LimitFile]?
  }
  struct LimitFile: Decodable {
    var bucket: String
    var capacity: LimitValueFile
    var perSecond: LimitValueFile
  }
  struct Defaults: Decodable {
    var maxAttempts: Int?
    var backoff: BackoffFile?
    var timeoutMs: Int64?
    var crashLimit: Int?
    var idempotencyWindowMs: Int64?
    /// Replaced by `submit`; read only to refuse a catalog that still uses it.
    var submittable: Bool?
  }
  struct ScheduleFile: Decodable {
    var cron: String
    var timezone: String?
    var job: String
    var payload: JSONValue?
    var queue: String?
    var missed: String?
    var missedAfterMs: Int64?
  }
  var queues: [String: QueueFile]
  var defaults: Defaults?
  var jobs: [String: JobFile]
  var schedules: [String: ScheduleFile]?
}
