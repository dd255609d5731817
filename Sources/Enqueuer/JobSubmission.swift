import Foundation
import JobCatalog
import JobContracts
import JobQueue
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
  /// For each submittable type, why an empty payload does not fit it (nil: it fits).
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
  func parse(
    _ value: JSONValue, at base: String, tenant: String, headerKey: String?, allowKeyField: Bool
  ) -> Parsed {
    var errors: [Problem.FieldError] = []
    func fail(_ field: String, _ detail: String) {
      errors.append(.init(pointer: field.isEmpty ? base : "\(base)/\(field)", detail: detail))
    }
    guard case .object(let fields) = value else {
      fail("", "each job is a JSON object with at least \"type\", got \(value.kind)")
      return .invalid(errors)
    }
    let allowed = allowKeyField ? Self.batchFields : Self.singleFields
    for name in fields.keys.sorted() where !allowed.contains(name) {
      fail(JSONPointer.escape(name), "unknown field; a job has \(allowed.sorted().joined(separator: ", "))")
    }

    var policy: JobCatalog.JobPolicy?
    switch fields["type"] {
    case .string(let type):
      if let found = try? catalog.policy(for: type), found.submittable {
        policy = found
      } else if (try? catalog.policy(for: type)) != nil {
        fail("type", "job type '\(type)' is internal and cannot be submitted over HTTP")
      } else {
        fail("type", "unknown job type '\(type.prefix(80))'; submittable types: \(submittableTypes)")
      }
    case nil: fail("type", "missing: name the job type, e.g. \"diag.noop\"")
    case let other?: fail("type", "must be a string, got \(other.kind)")
    }

    var payload = "{}"
    var payloadIsObject = true
    switch fields["payload"] {
    case nil: break
    case .object(let object)?: if !object.isEmpty { payload = fields["payload"]!.text() }
    case let other?:
      payloadIsObject = false
      fail("payload", "must be a JSON object, got \(other.kind)")
    }
    // An absent payload is `{}` and must fit the type too: a missing field is refused here, not in a worker.
    if let policy, payloadIsObject {
      // Whether `{}` fits a type never changes: answered once per type at startup, not per job.
      if payload == "{}", let verdict = emptyPayloadErrors[policy.type] {
        if let verdict { fail("payload" + verdict.pointer, verdict.reason) }
      } else {
        do {
          try contracts.validate(type: policy.type, payload: payload)
        } catch {
          fail("payload" + error.pointer, error.reason)
        }
      }
    }

    var queue = policy?.queue ?? ""
    switch fields["queue"] {
    case nil: break
    case .string(let name):
      if catalog.queues[name] != nil {
        queue = name
      } else {
        fail(
          "queue", "unknown queue '\(name.prefix(64))'; queues: \(catalog.queueNames.sorted().joined(separator: ", "))")
      }
    case let other?: fail("queue", "must be a string, got \(other.kind)")
    }

    var when = JobSpec.When.now
    switch (fields["delay_ms"], fields["run_at"]) {
    case (nil, nil): break
    case (.some, .some): fail("run_at", "give delay_ms or run_at, not both")
    case (.int(let ms)?, nil):
      if ms < 0 || ms > Self.maxDelayMs {
        fail("delay_ms", "must be between 0 and \(Self.maxDelayMs) (366 days)")
      } else if ms > 0 {
        when = .after(.milliseconds(ms))
      }
    case (let other?, nil): fail("delay_ms", "must be a whole number of milliseconds, got \(other.kind)")
    case (nil, .string(let text)?):
      if let date = Self.parseDate(text) {
        if date.timeIntervalSinceNow > Double(Self.maxDelayMs) / 1000 {
          fail("run_at", "must be within 366 days from now")
        } else {
          when = .at(epochMilliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded()))
        }
      } else {
        fail("run_at", "must be an RFC 3339 time with a zone, e.g. 2026-12-01T09:00:00-03:00")
      }
    case (nil, let other?): fail("run_at", "must be an RFC 3339 time string, got \(other.kind)")
    }

    var maxAttempts = policy?.maxAttempts ?? 1
    switch fields["max_attempts"] {
    case nil: break
    case .int(let n)?:
      if n < 1 || n > Int64(Self.maxAttempts) {
        fail("max_attempts", "must be between 1 and \(Self.maxAttempts)")
      } else {
        maxAttempts = Int(n)
      }
    case let other?: fail("max_attempts", "must be a whole number, got \(other.kind)")
    }

    var key = headerKey
    switch fields["idempotency_key"] {
    case nil: break
    case .string(let text)?: key = text
    case let other?: fail("idempotency_key", "must be a string, got \(other.kind)")
    }
    if let k = key, k.isEmpty || k.count > Self.maxKeyLength {
      fail(
        headerKey != nil && fields["idempotency_key"] == nil ? "" : "idempotency_key",
        "an idempotency key has 1 to \(Self.maxKeyLength) characters")
    }

    guard errors.isEmpty, let policy else { return .invalid(errors) }
    return .valid(
      JobSpec(
        type: policy.type, payload: payload, queue: queue, when: when, maxAttempts: maxAttempts,
        idempotencyKey: key.map { Self.apiKey(tenant: tenant, key: $0) }, idempotencyWindow: policy.idempotencyWindow,
        tenant: tenant))
  }

  /// Where a key sent over the API lives. Keys are per tenant, so one tenant's key never answers
  /// with another tenant's job; under "api/", which no key the system makes (`campaign:`,
  /// `renew:`, `maturation:`) starts with, so a tenant cannot swallow a system job by naming its
  /// key; and with the tenant's length, so no choice of tenant name and key meets another pair.
  static func apiKey(tenant: String, key: String) -> String {
    "api/\(tenant.utf8.count)/\(tenant)/\(key)"
  }

  var submittableTypes: String {
    catalog.jobs.values.filter(\.submittable).map(\.type).sorted().joined(separator: ", ")
  }

  static func parseDate(_ text: String) -> Date? {
    let plain = ISO8601DateFormatter()
    if let date = plain.date(from: text) { return date }
    let fractional = ISO8601DateFormatter()
    fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return fractional.date(from: text)
  }
}
