import Foundation
import HTTPTypes
import Hummingbird
import JobCatalog
import MaturationStore
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
    for command in MaturationCommand.allCases {
      group.post("maturation/:id/\(command)") { _, context in try await apply(command, context: context) }
    }
  }

  func create(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let body = try await RequestReader.body(request, limit: limits.maxBody, fields: Self.fields, noun: "a program")
    let chipIDs = body.ids("chip_ids", count: 2...50, expected: "2 to 50 of the tenant's chip ids (see GET /v1/chips)")
    if let chipIDs, Set(chipIDs).count < 2 {
      body.fail("chip_ids", "at least two different chips: they talk to each other")
    }
    let days = body.int("days", in: 1...365, expected: "a whole number of days between 1 and 365").map { Int($0) } ?? 30
    let startAt = body.date("start_at")
    let ramp = body.ints(
      "daily_ramp", count: 1...365, each: 0...1000,
      expected: "1 to 365 numbers of messages a day, day 1 first (the last repeats)",
      eachExpected: "messages a day, 0 to 1,000"
    )
    try body.finish()
    guard let chipIDs else { throw Problem.invalid(body.problems) }
    let id: Int64
    do {
      id = try await store.createMaturation(
        tenant: access, chipIDs: chipIDs, days: days, startAt: startAt, dailyRamp: ramp?.map { Int($0) })
    } catch let error as MaturationError {
      switch error {
      case .notInPlan: throw Problem(.forbidden, "plan-excludes-maturation", "Not in the plan", detail: "\(error)")
      default: throw Problem.invalid([.init(pointer: "/chip_ids", detail: "\(error)")])
      }
    }
    guard let report = try await store.maturationReport(tenantID: access.tenant.id, id: id) else {
      throw Problem.notFound("no maturation program \(id)")
    }
    var response = try JSONResponse.make(.created, report)
    response.headers[.location] = "/v1/maturation/\(id)"
    return response
  }

  func show(context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let id = try programID(context)
    guard let report = try await store.maturationReport(tenantID: access.tenant.id, id: id) else {
      throw Problem.notFound("no maturation program \(id)")
    }
    return try JSONResponse.make(.ok, report)
  }

  func apply(_ command: MaturationCommand, context: EnqueuerContext) async throws -> Response {
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
