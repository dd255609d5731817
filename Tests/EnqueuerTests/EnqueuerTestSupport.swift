import Foundation
import JobQueue
import TestSupport

/// One tenant with a key, a service key, and a running `whago serve`, for one test.
struct EnqueuerFixture {
  let server: ServeProcess
  let tenant: String
  let tenantKey: String
  let serviceKey: String

  static func start(
    plan: String = "enterprise", serveArguments: [String] = [], environment: [String: String] = [:],
    label: String = #function
  ) async throws -> EnqueuerFixture {
    try await TestDatabase.migrate()
    let tenant = try await TestDatabase.tenant(plan: plan, label)
    async let tenantKey = TestDatabase.apiKey(tenant: tenant)
    async let serviceKey = TestDatabase.apiKey(tenant: nil)
    let server = try await ServeProcess(extra: serveArguments, environment: environment)
    return EnqueuerFixture(
      server: server, tenant: tenant, tenantKey: try await tenantKey, serviceKey: try await serviceKey)
  }

  /// Starts a fixture, runs `body` with it, and stops its `whago serve` before returning or
  /// rethrowing: stopped and awaited, so the next test never starts beside a server still running.
  static func with<T>(
    plan: String = "enterprise", serveArguments: [String] = [], environment: [String: String] = [:],
    label: String = #function, _ body: (EnqueuerFixture) async throws -> T
  ) async throws -> T {
    let fixture = try await start(plan: plan, serveArguments: serveArguments, environment: environment, label: label)
    do {
      let result = try await body(fixture)
      try? await fixture.server.stop()
      return result
    } catch {
      try? await fixture.server.stop()
      throw error
    }
  }

  func url(_ path: String) -> String { server.base + path }

  func post(_ path: String, key: String? = nil, tenant: String? = nil, json: Any, headers: [String: String] = [:])
    async throws -> HTTP.Reply
  {
    try await HTTP.send("POST", url(path), key: key ?? tenantKey, tenant: tenant, json: json, headers: headers)
  }

  /// POSTs a job as an operator would: diagnostic types are operators', so a service key acting
  /// for this fixture's tenant.
  func submit(_ path: String = "/v1/jobs", json: Any, headers: [String: String] = [:]) async throws -> HTTP.Reply {
    try await post(path, key: serviceKey, tenant: tenant, json: json, headers: headers)
  }

  func get(_ path: String, key: String? = nil, tenant: String? = nil) async throws -> HTTP.Reply {
    try await HTTP.send("GET", url(path), key: key ?? tenantKey, tenant: tenant)
  }

  func delete(_ path: String, key: String? = nil, tenant: String? = nil) async throws -> HTTP.Reply {
    try await HTTP.send("DELETE", url(path), key: key ?? tenantKey, tenant: tenant)
  }
}

extension HTTP.Reply {
  /// A problem response's fields; fails the caller's expectations through the returned values.
  var problem: (status: Int, type: String, detail: String, pointers: [String]) {
    let json = (try? self.json()) ?? [:]
    let errors = (json["errors"] as? [[String: Any]]) ?? []
    return (
      json["status"] as? Int ?? -1, json["type"] as? String ?? "", json["detail"] as? String ?? "",
      errors.compactMap { $0["pointer"] as? String }
    )
  }

  var isProblem: Bool { header("Content-Type") == "application/problem+json" }
}
