import Foundation
import TestSupport
import Testing
import WAHASimulator

@Suite struct FaultTests {
  @Test func failRateOneAnswers500AndLogsNothing() async throws {
    try await withSimulator { sim, _ in
      let set = try await sim.control("POST", "/config", ["fail_rate": 1])
      #expect(set.status == 200)
      #expect(try set.value["fail_rate"]?.number == 1)
      for _ in 0..<5 {
        let reply = try await sim.sendText(to: "5511999998888@c.us", "x")
        #expect(reply.status == 500)
        #expect(try reply.value["statusCode"] == 500)
      }
      #expect(try await sim.messages().isEmpty)

      #expect(try await sim.control("POST", "/config", ["fail_rate": 0, "rate_limit_rate": 1]).status == 200)
      let limited = try await sim.sendText(to: "5511999998888@c.us", "x")
      #expect(limited.status == 429)
      #expect(limited.header("Retry-After") != nil)
      #expect(try await sim.messages().isEmpty)

      #expect(try await sim.control("POST", "/config", ["rate_limit_rate": 0]).status == 200)
      #expect(try await sim.sendText(to: "5511999998888@c.us", "x").status == 201)
      #expect(try await sim.messages().count == 1)
    }
  }

  /// A timeout holds the request, then answers 500 without accepting the message.
  @Test func timeoutHoldsThenFailsWithoutLogging() async throws {
    try await withSimulator { sim, _ in
      #expect(try await sim.control("POST", "/config", ["timeout_rate": 1, "timeout_hold_ms": 400]).status == 200)
      let started = ContinuousClock.now
      let reply = try await sim.sendText(to: "5511999998888@c.us", "x")
      #expect(reply.status == 500)
      #expect(ContinuousClock.now - started >= .milliseconds(400))
      #expect(try await sim.messages().isEmpty)
    }
  }

  @Test func latencyIsAddedToAnswers() async throws {
    try await withSimulator { sim, _ in
      #expect(try await sim.control("POST", "/config", ["latency_ms": 300]).status == 200)
      let started = ContinuousClock.now
      let reply = try await sim.sendText(to: "5511999998888@c.us", "x")
      #expect(reply.status == 201)
      #expect(ContinuousClock.now - started >= .milliseconds(300))
    }
  }

  @Test func invalidConfigIsRefusedWhole() async throws {
    try await withSimulator { sim, _ in
      let reply = try await sim.control("POST", "/config", ["fail_rate": 0.5, "drop_rate": 2, "nonsense": true])
      #expect(reply.status == 400)
      #expect(try await sim.control("GET", "/config").value["fail_rate"]?.number == 0)
    }
  }

  /// After an accepted send the session falls to FAILED, says so by webhook, refuses further sends,
  /// and comes back only when restarted.
  @Test func sessionDropFailsTheSessionUntilRestart() async throws {
    try await withSimulator(["--start-delay", "50ms"]) { sim, hooks in
      #expect(try await sim.control("POST", "/config", ["drop_rate": 1]).status == 200)
      #expect(try await sim.sendText(to: "5511999998888@c.us", "last one").status == 201)
      #expect(try await sim.messages().map(\.text) == ["last one"])
      #expect(try await sim.sessionStatus("default") == "FAILED")
      let failed = try await hooks.first("a FAILED session.status webhook") {
        $0.event == "session.status" && $0.payload["status"] == "FAILED"
      }
      #expect(failed.json["session"] == "default")

      let refused = try await sim.sendText(to: "5511999998888@c.us", "x")
      #expect(refused.status == 422)
      #expect(try refused.value["status"] == "FAILED")

      #expect(try await sim.control("POST", "/config", ["drop_rate": 0]).status == 200)
      #expect(try await sim.api("POST", "/api/sessions/default/restart").status == 201)
      try await eventually("the session to work again", within: .seconds(10)) {
        try await sim.sessionStatus("default") == "WORKING"
      }
      #expect(try await sim.sendText(to: "5511999998888@c.us", "again").status == 201)
    }
  }

  @Test func forcedStatusIsReportedAndAnyStatusIsAccepted() async throws {
    try await withSimulator { sim, hooks in
      let forced = try await sim.control("POST", "/sessions/default/status", ["status": "PASSKEY_REQUIRED"])
      #expect(forced.status == 200)
      #expect(try await sim.sessionStatus("default") == "PASSKEY_REQUIRED")
      _ = try await hooks.first("the forced status webhook") {
        $0.event == "session.status" && $0.payload["status"] == "PASSKEY_REQUIRED"
      }
      #expect(try await sim.sendText(to: "5511999998888@c.us", "x").status == 422)
      #expect(try await sim.control("POST", "/sessions/ghost/status", ["status": "FAILED"]).status == 404)
    }
  }
}
