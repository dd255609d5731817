import Foundation
import HTTPTypes
import Hummingbird
import JobCatalog
import JobQueue
import NIOCore
import Store
import Wire

/// `/v1/jobs`: submit one job or a batch, read one, cancel one; always within the request's tenant.
struct JobRoutes {
  let broker: Broker
  let submission: JobSubmission
  let limits: EnqueuerServer.Limits
  /// Single submissions arriving together share one enqueue script.
  let singles: GroupCommit

  init(broker: Broker, submission: JobSubmission, limits: EnqueuerServer.Limits) {
    self.broker = broker
    self.submission = submission
    self.limits = limits
    self.singles = GroupCommit(broker: broker)
  }

  static let maxBatch = 1000

  func register(on group: RouterGroup<EnqueuerContext>) {
    group.post("jobs") { request, context in try await submit(request, context: context) }
    group.post("jobs/batch") { request, context in try await submitBatch(request, context: context) }
    group.get("jobs/:id") { _, context in try await show(context: context) }
    group.delete("jobs/:id") { _, context in try await cancel(context: context) }
  }

  func submit(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let value = try JSONValue.body(try await RequestReader.bytes(request, limit: limits.maxBody).readableBytesView)
    let spec: JobSpec
    switch submission.parse(
      value, at: "", tenant: access.tenant.lane, plan: access.plan, byOperator: context.byService,
      headerKey: request.headers[.idempotencyKey], allowKeyField: false)
    {
    case .invalid(let errors): throw Problem.invalid(errors)
    case .valid(let parsed): spec = parsed
    }
    let result: EnqueueResult
    do {
      result = try await singles.enqueue(spec)
    } catch let error as QueueError {
      throw Self.problem(error, plan: access.plan)
    }
    var response = JSONResponse.make(.accepted, Accepted(result, spec).json)
    response.headers[.location] = "/v1/jobs/\(result.id)"
    return response
  }

  func submitBatch(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let value = try JSONValue.body(try await RequestReader.bytes(request, limit: limits.maxBatchBody).readableBytesView)
    guard case .object(let fields) = value else {
      throw Problem.invalid([.init(pointer: "", detail: "the body is an object: {\"jobs\": [ … ]}, got \(value.kind)")])
    }
    var errors: [Problem.FieldError] = []
    for name in fields.keys.sorted() where name != "jobs" {
      errors.append(.init(pointer: "/\(JSONPointer.escape(name))", detail: "unknown field; a batch has only \"jobs\""))
    }
    guard case .array(let items) = fields["jobs"] else {
      errors.append(.init(pointer: "/jobs", detail: "must be an array of 1 to \(Self.maxBatch) jobs"))
      throw Problem.invalid(errors)
    }
    if items.isEmpty || items.count > Self.maxBatch {
      errors.append(.init(pointer: "/jobs", detail: "holds \(items.count) jobs; send 1 to \(Self.maxBatch) per batch"))
      throw Problem.invalid(errors)
    }
    if request.headers[.idempotencyKey] != nil {
      errors.append(
        .init(pointer: "", detail: "a batch takes idempotency keys per job (\"idempotency_key\"), not in a header"))
    }
    // All or nothing: one bad job refuses the batch, so a client never has to work out which half went in.
    var specs: [JobSpec] = []
    specs.reserveCapacity(items.count)
    for (index, item) in items.enumerated() {
      switch submission.parse(
        item, at: "/jobs/\(index)", tenant: access.tenant.lane, plan: access.plan, byOperator: context.byService,
        headerKey: nil, allowKeyField: true)
      {
      case .invalid(let itemErrors): errors += itemErrors
      case .valid(let spec): specs.append(spec)
      }
      if errors.count >= 100 { break }
    }
    if !errors.isEmpty { throw Problem.invalid(errors) }
    let results: [EnqueueResult]
    do {
      // Each queue's jobs in one script: all of them or none.
      results = try await broker.enqueue(specs, atomically: true)
    } catch let error as QueueError {
      throw Self.problem(error, plan: access.plan)
    } catch let incomplete as EnqueueIncomplete {
      var problem = Problem(
        .serviceUnavailable, "batch-incomplete", "Part of the batch was enqueued",
        detail:
          "the queue failed after the jobs of \(Set(incomplete.committed.map { specs[$0.index].queue }).sorted().joined(separator: ", ")) went in (\(incomplete.committed.count) of \(specs.count), listed in committed by position); resend only the others",
        retryAfter: 1)
      problem.committed = incomplete.committed.map {
        .init(index: $0.index, id: $0.result.id, state: $0.result.state.rawValue)
      }
      throw problem
    }
    return JSONResponse.make(.accepted, BatchAccepted(jobs: zip(results, specs).map { Accepted($0, $1) }).json)
  }

  /// A queue refusal as the client should read it: the plan's cap is a 403 that says what to do.
  static func problem(_ error: QueueError, plan: Plan) -> any Error {
    guard case .scheduledCapReached(_, let held, let cap) = error else { return error }
    return Problem(
      .forbidden, "plan-limit", "The plan's scheduled jobs are all in use",
      detail:
        "\(held) of this tenant's jobs wait on this queue for a later time and plan '\(plan.name)' allows \(cap) "
        + "(scheduled_jobs); nothing was enqueued. Wait for some to come due, cancel some, or change plans")
  }

  func show(context: EnqueuerContext) async throws -> Response {
    let info = try await ownJob(context: context)
    return try JSONResponse.make(.ok, JobView(info))
  }

  func cancel(context: EnqueuerContext) async throws -> Response {
    let info = try await ownJob(context: context)
    do {
      try await broker.cancel(id: info.id)
    } catch QueueError.notCancellable(_, let state) {
      throw Problem(
        .conflict, "not-cancellable", "The job cannot be cancelled",
        detail: "job \(info.id) is \(state.rawValue); only scheduled or ready jobs can be cancelled")
    } catch QueueError.jobNotFound {
      throw Problem.notFound("no job \(info.id)")
    }
    return try JSONResponse.make(.ok, Cancelled(id: info.id, state: JobState.cancelled.rawValue))
  }

  /// The job, if it exists and is this tenant's; another tenant's job is "not found", so ids do not leak.
  private func ownJob(context: EnqueuerContext) async throws -> JobInfo {
    let access = try context.tenant()
    let id = context.parameters.get("id") ?? ""
    guard JobID.isValid(id) else {
      throw Problem.notFound("no job '\(id.prefix(40))'; job ids have 14 letters and digits")
    }
    let info: JobInfo
    do {
      info = try await broker.job(id: id)
    } catch QueueError.jobNotFound {
      throw Problem.notFound("no job \(id) (it may be past its retention)")
    }
    guard info.tenant == access.tenant.lane, info.state != .unknown else {
      throw Problem.notFound("no job \(id) (it may be past its retention)")
    }
    return info
  }
}

/// What a submission answers.
struct Accepted: Encodable {
  var id: String
  var state: String
  var type: String
  var queue: String
  var duplicate: Bool

  init(_ result: EnqueueResult, _ spec: JobSpec) {
    id = result.id
    state = result.state.rawValue
    type = spec.type
    queue = spec.queue
    duplicate = result.duplicate
  }
}

struct BatchAccepted: Encodable {
  var jobs: [Accepted]
}

/// The accepted answers, written as WireJSON would write them (keys sorted) without JSONEncoder:
/// they are sent for every job submitted.
extension Accepted {
  func write(to text: inout JSONText) {
    text.raw(#"{"duplicate":"#)
    text.bool(duplicate)
    text.raw(#","id":"#)
    text.string(id)
    text.raw(#","queue":"#)
    text.string(queue)
    text.raw(#","state":"#)
    text.string(state)
    text.raw(#","type":"#)
    text.string(type)
    text.raw("}")
  }

  var json: JSONText {
    var text = JSONText()
    write(to: &text)
    return text
  }
}

extension BatchAccepted {
  var json: JSONText {
    var text = JSONText(capacity: 32 + jobs.count * 110)
    text.raw(#"{"jobs":["#)
    for (index, job) in jobs.enumerated() {
      if index > 0 { text.raw(",") }
      job.write(to: &text)
    }
    text.raw("]}")
    return text
  }
}

struct Cancelled: Encodable {
  var id: String
  var state: String
}

/// A job as a tenant sees it.
struct JobView: Encodable {
  struct AttemptError: Encodable {
    var attempt: Int
    var error: String
    var kind: String
    var at: String
  }

  var id: String
  var type: String
  var queue: String
  var state: String
  var payload: JSONValue
  var attempts: Int
  var maxAttempts: Int
  var errors: [AttemptError]
  // Times not reached yet are explicit nulls: every key is always there.
  @ExplicitNull var enqueuedAt: String?
  @ExplicitNull var runAt: String?
  @ExplicitNull var startedAt: String?
  @ExplicitNull var finishedAt: String?

  init(_ info: JobInfo) {
    id = info.id
    type = info.type
    queue = info.queue
    state = info.state.rawValue
    payload = (try? JSONValue.body(Array(info.payload.utf8))) ?? .object([:])
    attempts = info.attempts
    maxAttempts = info.maxAttempts
    errors = info.history.map {
      .init(attempt: $0.attempt, error: $0.error, kind: $0.kind, at: JSONResponse.time($0.at))
    }
    enqueuedAt = info.enqueuedAt.map { JSONResponse.time($0) }
    runAt = info.dueAt.map { JSONResponse.time($0) }
    startedAt = info.startedAt.map { JSONResponse.time($0) }
    finishedAt = info.finishedAt.map { JSONResponse.time($0) }
  }
}
