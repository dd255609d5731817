import Foundation
import JobCatalog
import JobContracts
import JobQueue
import Store
import Wire

/// One job as a client submits it, checked field by field so every mistake comes back at once,
/// each with the JSON Pointer of the field to fix.
struct JobSubmission {
  enum Parsed {
    case valid(JobSpec)
    case invalid([Problem.FieldError])
  }

  static let singleFields: Set<String> = ["type", "payload", "queue", "delay_ms", "run_at", "max_attempts"]
  static let batchFields = singleFields.union(["idempotency_key"])
  static let maxDelayMs: Int64 = 366 * 86_400_000
  static let maxAttempts = 100
  static let maxKeyLength = 200

  let catalog: JobCatalog
  let contracts: PayloadContracts
  /// For each type, why an empty payload does not fit it (nil: it fits).
  let emptyPayloadErrors: [String: PayloadError?]

  init(catalog: JobCatalog, contracts: PayloadContracts) {
    self.catalog = catalog
    self.contracts = contracts
    var verdicts: [String: PayloadError?] = [:]
    for type in catalog.jobs.keys {
      do {
        try contracts.validate(type: type, payload: "{}")
        verdicts[type] = .some(nil)
      } catch {
        verdicts[type] = .some(error)
      }
    }
    emptyPayloadErrors = verdicts
  }

  /// The job to enqueue for `tenant`, or the list of what is wrong with it.
  /// `byOperator`: the request came with a service key, which may submit operators' types.
  /// `plan`: the tenant's, whose caps on payload size and on jobs scheduled ahead apply whoever submits.
  func parse(
    _ value: JSONValue, at base: String, tenant: String, plan: Plan? = nil, byOperator: Bool, headerKey: String?,
    allowKeyField: Bool
  ) -> Parsed {
    let job = RequestReader(
      value, at: base, fields: allowKeyField ? Self.batchFields : Self.singleFields, noun: "a job")
    guard job.isObject else { return .invalid(job.problems) }

    var policy: JobCatalog.JobPolicy?
    _ = job.string("type", max: 200, expected: "a job type, e.g. \"diag.noop\"") { type in
      guard let found = try? catalog.policy(for: type) else {
        return "unknown job type '\(type.prefix(80))'; \(submittableTypes(byOperator: byOperator))"
      }
      switch found.submitters {
      case .nobody: return "job type '\(type)' is internal and cannot be submitted over HTTP"
      case .operators where !byOperator:
        return
          "job type '\(type)' is for operators: submit it with a service key and Whago-Tenant; "
          + submittableTypes(byOperator: false)
      case .operators, .tenants: break
      }
      policy = found
      return nil
    }

    var payload = "{}"
    var payloadIsObject = true
    switch job["payload"] {
    case nil: break
    case .object(let object)?: if !object.isEmpty { payload = job["payload"]!.text() }
    case let other?:
      payloadIsObject = false
      job.fail("payload", "must be a JSON object, got \(other.kind)")
    }
    if let plan, let limit = plan.jobPayloadBytes, payload.utf8.count > limit {
      payloadIsObject = false
      job.fail(
        "payload",
        "is \(payload.utf8.count) bytes as JSON; plan '\(plan.name)' allows \(limit) per job (job_payload_bytes): "
          + "keep large data elsewhere and pass its id")
    }
    // An absent payload is `{}` and must fit the type too: a missing field is refused here, not in a worker.
    if let policy, payloadIsObject {
      // Whether `{}` fits a type never changes: answered once per type at startup, not per job.
      if payload == "{}", let verdict = emptyPayloadErrors[policy.type] {
        if let verdict { job.fail("payload" + verdict.pointer, verdict.reason) }
      } else {
        do {
          try contracts.validate(type: policy.type, payload: payload)
        } catch {
          job.fail("payload" + error.pointer, error.reason)
        }
      }
    }

    // A type runs only on its own queue: a tenant's job must not take slots meant for billing.
    _ = job.string("queue", required: false, max: 200) { name in
      if let policy, name == policy.queue { return nil }
      guard catalog.queues[name] != nil else {
        return "unknown queue '\(name.prefix(64))'; leave queue out: a job runs on its type's queue"
      }
      return policy.map { "\($0.type) runs on queue '\($0.queue)' only; leave queue out" }
    }
    let queue = policy?.queue ?? ""

    var when = JobSpec.When.now
    if job.has("delay_ms") && job.has("run_at") {
      job.fail("run_at", "give delay_ms or run_at, not both")
    } else if let ms = job.int(
      "delay_ms", in: 0...Self.maxDelayMs,
      expected: "whole milliseconds between 0 and \(Self.maxDelayMs) (366 days)")
    {
      if ms > 0 { when = .after(.milliseconds(ms)) }
    } else if let date = job.date("run_at") {
      if date.timeIntervalSinceNow > Double(Self.maxDelayMs) / 1000 {
        job.fail("run_at", "must be within 366 days from now")
      } else {
        when = .at(epochMilliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded()))
      }
    }

    let maxAttempts =
      job.int("max_attempts", in: 1...Int64(Self.maxAttempts)).map { Int($0) } ?? policy?.maxAttempts ?? 1

    var key = headerKey
    if let text = job.string("idempotency_key", required: false, max: Self.maxKeyLength) {
      key = text
    } else if let header = headerKey, header.isEmpty || header.unicodeScalars.count > Self.maxKeyLength {
      job.fail("", "an idempotency key has 1 to \(Self.maxKeyLength) characters")
    }

    guard !job.hasErrors, let policy else { return .invalid(job.problems) }
    return .valid(
      JobSpec(
        type: policy.type, payload: payload, queue: queue, when: when, maxAttempts: maxAttempts,
        idempotencyKey: key.map { Self.apiKey(tenant: tenant, key: $0) }, idempotencyWindow: policy.idempotencyWindow,
        tenant: tenant, scheduledCap: plan?.scheduledJobs))
  }

  /// Where a key sent over the API lives. Keys are per tenant, so one tenant's key never answers
  /// with another tenant's job; under "api/", which no key the system makes (`campaign:`,
  /// `renew:`, `maturation:`) starts with, so a tenant cannot swallow a system job by naming its
  /// key; and with the tenant's length, so no choice of tenant name and key meets another pair.
  static func apiKey(tenant: String, key: String) -> String {
    "api/\(tenant.utf8.count)/\(tenant)/\(key)"
  }

  /// The types this caller may submit, for messages.
  func submittableTypes(byOperator: Bool) -> String {
    let types = catalog.jobs.values.filter {
      $0.submitters == .tenants || ($0.submitters == .operators && byOperator)
    }.map(\.type).sorted()
    return types.isEmpty
      ? "tenant keys submit no job types; campaigns and chips have their own routes"
      : "submittable types: \(types.joined(separator: ", "))"
  }
}
