import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Postgres
import Testing

@testable import Enqueuer

/// What the database refuses for the data it was given is the client's to fix: a 4xx that names
/// the broken rule, never a 503 a client retries forever, and never the refused value itself.
@Suite struct DataRefusalTests {
  @Test func refusedDataIsAClientErrorAndOnlyOutagesAre503() async throws {
    let router = Router(context: EnqueuerContext.self)
    router.add(middleware: ProblemMiddleware(logger: Logger(label: "test.problems"), allowed: AllowedMethods()))
    let cases: [(path: String, error: PostgresError)] = [
      (
        "check",
        PostgresError(.server, "new row violates check constraint", sqlState: "23514", constraint: "chips_url_check")
      ),
      ("nul", PostgresError(.server, "unsupported Unicode escape sequence \\u0000 in +5511999", sqlState: "22P05")),
      ("unique", PostgresError(.server, "duplicate key value", sqlState: "23505", constraint: "chips_tenant_name_key")),
      ("down", PostgresError(.server, "terminating connection due to administrator command", sqlState: "57P01")),
      ("bug", PostgresError(.server, "syntax error at or near", sqlState: "42601")),
      ("busy", PostgresError(.busy, "waited more than 5 seconds for a connection")),
    ]
    for c in cases {
      router.post(RouterPath(c.path)) { _, _ -> Response in throw c.error }
    }
    let app = Application(router: router)
    try await app.test(.router) { client in
      for (path, status, type, mentions) in [
        ("check", HTTPResponse.Status.unprocessableContent, "invalid-data", "chips_url_check"),
        ("nul", .unprocessableContent, "invalid-data", "breaks a rule"),
        ("unique", .conflict, "conflict", "chips_tenant_name_key"),
        ("down", .serviceUnavailable, "database-unavailable", "retry"),
        ("bug", .internalServerError, "internal", "log"),
        ("busy", .serviceUnavailable, "database-busy", "Retry shortly"),
      ] {
        try await client.execute(uri: "/\(path)", method: .post) { response in
          let body = String(buffer: response.body)
          #expect(response.status == status, "\(path): \(body)")
          #expect(body.contains("\"type\":") && body.contains(type), "\(path): \(body)")
          #expect(body.contains(mentions), "\(path): \(body)")
          #expect(!body.contains("+5511999"), "the refused value is never echoed")
          #expect((response.headers[.retryAfter] != nil) == (status == .serviceUnavailable), "\(path)")
        }
      }
    }
  }
}
