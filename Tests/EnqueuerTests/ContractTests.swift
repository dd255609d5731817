import Foundation
import Postgres
import Store
import TestSupport
import Testing

extension EnqueuerSuite {
  /// The published OpenAPI document against the running server: schemathesis generates requests
  /// from it (valid, invalid, edge cases, and sequences that follow the document's links from a
  /// created campaign or program to its operations) and checks that none gets a 5xx, that every
  /// response matches what the document says, that invalid input is refused and that a method
  /// the document does not declare is 405. Every check runs (`--checks all`), including that a
  /// request the document calls valid is accepted.
  @Suite struct ContractTests {
    @Test func theServerMatchesItsOpenAPIDocument() async throws {
      guard let schemathesis = ProcessInfo.processInfo.environment["WHAGO_SCHEMATHESIS_BIN"] else {
        throw TestSetupError("WHAGO_SCHEMATHESIS_BIN is not set: run the tests with scripts/test, which installs it")
      }
      // A plan without a request limit, so generated requests meet the routes, not the 429, and
      // without a minimum gap between sends, the one limit of a campaign's pace that is the plan's.
      let plan = TestDatabase.tenantName()
      try await TestDatabase.migrate()
      // A chip's rotate-proxy draws from the operators' pool, one table for every suite: empty (this
      // suite run alone) it answers 503 proxy-pool-empty, which schemathesis counts as a server
      // error. An account of its own makes the outcome independent of which suites ran first.
      let pool = try TestDatabase.pool(size: 1)
      defer { pool.close() }
      let login = "contract\(UInt32.random(in: 0...UInt32.max))"
      _ = try await Store(pool: pool).addProxy(
        NewProxy(
          provider: "dataimpulse", host: "gw.dataimpulse.com", port: 824, username: login, password: "pw-\(login)",
          country: "br"), box: try SecretBox(encoded: TestDatabase.secretKey))
      try await TestDatabase.whago([
        "plan", "set", plan, "--from", "enterprise", "api_requests_per_hour=unlimited", "min_send_gap_ms=0",
      ])
      // The one rule JSON Schema cannot state (run_at within 366 days of now) is filtered there,
      // by the exact error it answers; see the file.
      let hooks = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/lib/contract_hooks.py").path
      // PIX codes for credit packs are asked of Mercado Pago while the request waits: its simulator.
      let (sim, simPort) = try await Whago.server(["sim", "payments", "--latency", "0ms"], label: "payments-sim")
      defer { sim.signal(SIGKILL) }
      try await EnqueuerFixture.with(
        plan: plan,
        environment: [
          "WHAGO_MERCADOPAGO_API_URL": "http://127.0.0.1:\(simPort)", "WHAGO_MERCADOPAGO_ACCESS_TOKEN": "TEST-sim",
        ]
      ) { f in
        let workDir = NSTemporaryDirectory() + "whago-st-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: workDir) }
        // Tenant keys for the tenant's routes; a service key acting for the tenant for /v1/jobs,
        // whose types (diagnostics) are operators' and which a tenant key is refused.
        let runs: [(label: String, key: String, filter: [String])] = [
          ("tenant", "Authorization: Bearer \(f.tenantKey)", ["--exclude-path-regex", "^/v1/jobs"]),
          // DELETE /v1/jobs/{id} cancels: the job stays readable as `cancelled` until retention, as
          // the document says, which schemathesis's use-after-free check would call a failure.
          (
            "service", "Authorization: Bearer \(f.serviceKey)",
            ["--include-path-regex", "^/v1/jobs", "--exclude-checks", "use_after_free"]
          ),
        ]
        for run in runs {
          var arguments = [
            "run", f.url("/openapi.yaml"), "--url", f.server.base, "--header", run.key, "--checks", "all",
            "--max-examples", "60", "--generation-database", "none", "--no-color", "--seed", "20261204",
            "--phases", "examples,coverage,fuzzing,stateful",
          ]
          if run.label == "service" { arguments += ["--header", "Whago-Tenant: \(f.tenant)"] }
          let child = try ChildProcess(
            executable: schemathesis, arguments: arguments + run.filter,
            environment: ["HYPOTHESIS_STORAGE_DIRECTORY": workDir + "/hypothesis", "SCHEMATHESIS_HOOKS": hooks],
            label: "schemathesis-\(run.label)",
            workingDirectory: workDir)
          let status = try await child.waitForExit(within: .seconds(600))
          #expect(status == 0, "schemathesis (\(run.label) key) found problems:\n\(child.output.suffix(12000))")
        }
        #expect(
          f.server.child.isRunning, "whago serve died under generated requests:\n\(f.server.child.output.suffix(3000))")
      }
    }
  }
}
