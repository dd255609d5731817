import Foundation
import HTTPTypes
import Hummingbird
import JobCatalog
import Store
import Wire

/// `/v1/maturation`: a tenant warms up its chips (plans with maturation), pauses, resumes or stops
/// the program, and reads its progress. Another tenant's program answers 404.
struct MaturationRoutes {
  let store: Store
  let limits: EnqueuerServer.Limits

  static let fields: Set<String> = ["chip_ids", "days", "start_at", "daily_ramp"]

  func register(on group: RouterGroup<EnqueuerContext>) {
    group.post("maturation") { request, context in try await create(request, context: context) }
    group.get("maturation/:id") { _, context in try await show(context: context) }
    for command in ["pause", "resume", "stop"] {
      group.post("maturation/:id/\(command)") { _, context in try await apply(command, context: context) }
    }
  }

  func create(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let value = try JSONValue.body(try await JobRoutes.body(request, limit: limits.maxBody).readableBytesView)
    guard case .object(let body) = value else {
      throw Problem.invalid([.init(pointer: "", detail: "the body is a JSON object, got \(value.kind)")])
    }
    var errors: [Problem.FieldError] = []
    func fail(_ pointer: String, _ detail: String) { errors.append(.init(pointer: pointer, detail: detail)) }
    for name in body.keys.sorted() where !Self.fields.contains(name) {
      fail(
        "/\(JSONPointer.escape(name))", "unknown field; a program has \(Self.fields.sorted().joined(separator: ", "))")
    }
    var chipIDs: [Int64] = []
    if case .array(let items)? = body["chip_ids"], (2...50).contains(items.count) {
      for (i, item) in items.enumerated() {
        if case .int(let id) = item { chipIDs.append(id) } else { fail("/chip_ids/\(i)", "must be a chip id") }
      }
      if Set(chipIDs).count < 2 { fail("/chip_ids", "at least two different chips: they talk to each other") }
    } else {
      fail("/chip_ids", "2 to 50 of the tenant's chip ids (see GET /v1/chips)")
    }
    var days = 30
    switch body["days"] {
    case nil: break
    case .int(let n)? where (1...365).contains(n): days = Int(n)
    default: fail("/days", "a whole number of days from 1 to 365")
    }
    var startAt: Date?
    if let start = body["start_at"] {
      if case .string(let s) = start, let date = JobSubmission.parseDate(s) {
        startAt = date
      } else {
        fail("/start_at", "must be an RFC 3339 time with a zone")
      }
    }
    var ramp: [Int]?
    if let value = body["daily_ramp"] {
      if case .array(let items) = value, (1...365).contains(items.count) {
        ramp = []
        for (i, item) in items.enumerated() {
          if case .int(let n) = item, (0...1000).contains(n) {
            ramp?.append(Int(n))
          } else {
            fail("/daily_ramp/\(i)", "messages a day, 0 to 1,000")
          }
        }
      } else {
        fail("/daily_ramp", "1 to 365 numbers of messages a day, day 1 first (the last repeats)")
      }
    }
    guard errors.isEmpty else { throw Problem.invalid(errors) }
    let id: Int64
    do {
      id = try await store.createMaturation(
        tenant: access, chipIDs: chipIDs, days: days, startAt: startAt, dailyRamp: ramp)
    } catch let error as MaturationError {
      switch error {
      case .notInPlan: throw Problem(.forbidden, "plan-excludes-maturation", "Not in the plan", detail: "\(error)")
      default: throw Problem.invalid([.init(pointer: "/chip_ids", detail: "\(error)")])
      }
    }
    guard let report = try await store.maturationReport(tenantID: access.tenant.id, id: id) else {
      throw Problem.notFound("no maturation program \(id)")
    }
    var response = try JobRoutes.json(.created, report)
    response.headers[.location] = "/v1/maturation/\(id)"
    return response
  }

  func show(context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let id = try programID(context)
    guard let report = try await store.maturationReport(tenantID: access.tenant.id, id: id) else {
      throw Problem.notFound("no maturation program \(id)")
    }
    return try JobRoutes.json(.ok, report)
  }

  func apply(_ command: String, context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let id = try programID(context)
    do {
      try await store.maturationCommand(command, tenantID: access.tenant.id, id: id)
    } catch MaturationError.notFound {
      throw Problem.notFound("no maturation program \(id)")
    } catch let error as MaturationError {
      throw Problem(.conflict, "maturation-state", "The program cannot do that now", detail: "\(error)")
    }
    return try await show(context: context)
  }

  private func programID(_ context: EnqueuerContext) throws(Problem) -> Int64 {
    guard let id = context.parameters.get("id").flatMap({ Int64($0) }), id > 0 else {
      throw Problem.notFound("no maturation program with that id")
    }
    return id
  }
}
