import Foundation
import Hummingbird
import HummingbirdTesting
import JobQueue
import RedisClient
import TestSupport
import Testing

extension EnqueuerSuite {
  /// Each way a request can be wrong gets a problem+json that says what to fix.
  @Suite struct ProblemTests {
    @Test func everyMistakeIsAProblemThatNamesTheField() async throws {
      try await EnqueuerFixture.with(serveArguments: ["--max-body", "2048"]) { f in
        // Tomorrow by PostgreSQL's clock: a valid time, refused only for coming with delay_ms.
        let tomorrow = ISO8601DateFormatter().string(from: try await TestDatabase.now().addingTimeInterval(86_400))
        let cases: [(json: Any, status: Int, pointers: [String], mentions: String)] = [
          (["type": "diag.nope"], 422, ["/type"], "unknown job type"),
          (["type": "diag.crash"], 422, ["/type"], "cannot be submitted"),
          (["payload": [:] as [String: Any]], 422, ["/type"], "missing"),
          (["type": 7], 422, ["/type"], "must be a string"),
          (["type": "diag.sleep", "payload": ["ms": "soon"]], 422, ["/payload/ms"], "Int"),
          (["type": "diag.sleep", "payload": [:] as [String: Any]], 422, ["/payload/ms"], "missing field"),
          (["type": "diag.sleep"], 422, ["/payload/ms"], "missing field"),
          (["type": "diag.noop", "payload": [1, 2]], 422, ["/payload"], "JSON object"),
          (["type": "diag.noop", "delay_ms": -5], 422, ["/delay_ms"], "between"),
          (["type": "diag.noop", "delay_ms": 1, "run_at": tomorrow], 422, ["/run_at"], "not both"),
          (["type": "diag.noop", "run_at": "tomorrow"], 422, ["/run_at"], "RFC 3339"),
          (["type": "diag.noop", "max_attempts": 0], 422, ["/max_attempts"], "between"),
          (["type": "diag.noop", "queue": "elsewhere"], 422, ["/queue"], "unknown queue"),
          (["type": "diag.sleep", "payload": ["ms": 1], "queue": "billing"], 422, ["/queue"], "'diag' only"),
          (["type": "diag.noop", "colour": "blue"], 422, ["/colour"], "unknown field"),
          ([1, 2, 3], 422, [""], "JSON object"),
          ("{\"type\": \"diag.noop\"", 400, [], "JSON"),
          ("", 400, [], "empty"),
          (String(repeating: " ", count: 4096) + "{}", 413, [], "limited"),
        ]
        for c in cases {
          let reply = try await f.submit(json: c.json)
          #expect(reply.status == c.status, "\(c.json): \(reply.text)")
          #expect(reply.isProblem, "\(c.json)")
          let problem = reply.problem
          #expect(problem.status == c.status)
          #expect(problem.pointers == c.pointers, "\(c.json): \(reply.text)")
          #expect(problem.detail.contains(c.mentions), "\(c.json): \(problem.detail)")
        }
        let badKey = try await f.submit(json: ["type": "diag.noop"], headers: ["Idempotency-Key": ""])
        #expect(badKey.status == 422 || badKey.status == 202)

        let route = try await HTTP.send("GET", f.url("/v2/anything"), key: f.tenantKey)
        #expect(route.status == 404 && route.isProblem)
        #expect(try await HTTP.send("GET", f.url("/v1/jobs/%20%20"), key: f.tenantKey).status == 404)
        // The server is still there after all of it.
        #expect(try await HTTP.send("GET", f.url("/healthz")).status == 200)
      }
    }

    /// Anyone may ask /readyz: a Redis that does not answer is "unavailable", without the driver's
    /// message (addresses, paths) that the log gets instead.
    @Test func readinessSaysWhatIsDownButNotWhere() async throws {
      let closed = try ClosedPort()
      defer { closed.close() }
      var options = RedisClient.Options()
      options.commandTimeout = .seconds(2)
      let down = Broker(redis: RedisClient(url: try RedisURL("redis://127.0.0.1:\(closed.port)/0"), options: options))
      try await withInProcessEnqueuer(broker: down) { client in
        let (status, body) = try await client.execute(uri: "/readyz", method: .get) {
          ($0.status, String(buffer: $0.body))
        }
        #expect(status == .serviceUnavailable)
        #expect(body == #"{"postgres":"ok","redis":"unavailable"}"#, "\(body)")
      }
    }

    @Test func readinessAndTheAPIDescription() async throws {
      try await EnqueuerFixture.with { f in
        let ready = try await HTTP.send("GET", f.url("/readyz"))
        #expect(ready.status == 200)
        #expect(try ready.json()["redis"] as? String == "ok")
        #expect(try ready.json()["postgres"] as? String == "ok")
        let spec = try await HTTP.send("GET", f.url("/openapi.yaml"))
        #expect(spec.status == 200)
        #expect(spec.text.hasPrefix("openapi: 3.1"))
        for path in ["/v1/jobs:", "/v1/jobs/batch:", "/v1/jobs/{id}:", "/healthz:", "/readyz:"] {
          #expect(spec.text.contains(path), "\(path) is not in openapi.yaml")
        }
        _ = try await f.submit(json: ["type": "diag.noop"])
        let metrics = try await HTTP.send("GET", f.url("/metrics"))
        #expect(metrics.status == 200)
        #expect(metrics.text.contains("hb_requests"))
      }
    }
  }
}
