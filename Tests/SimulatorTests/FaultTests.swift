import Foundation
import TestSupport
import Testing
import WAHASimulator
import Wire

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

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

  /// A timeout before the send holds the request, then answers 500 without accepting the message.
  @Test func timeoutHoldsThenFailsWithoutLogging() async throws {
    try await withSimulator { sim, _ in
      let set = try await sim.control(
        "POST", "/config", ["timeout_rate": 1, "timeout_after_send_rate": 0, "timeout_hold_ms": 400])
      #expect(set.status == 200)
      let started = ContinuousClock.now
      let reply = try await sim.sendText(to: "5511999998888@c.us", "x")
      #expect(reply.status == 500)
      #expect(ContinuousClock.now - started >= .milliseconds(400))
      #expect(try await sim.messages().isEmpty)
    }
  }

  /// A timeout after the send: the client gives up waiting, yet the message went out. It is in the
  /// log, in the chat's messages under the id the webhooks use, and its acks follow.
  @Test func timeoutAfterSendAcceptsTheMessageButLosesTheAnswer() async throws {
    let flags = ["--timeout-rate", "1", "--timeout-after-send-rate", "1", "--timeout-hold", "5s"]
    try await withSimulator(flags) { sim, hooks in
      #expect(try await sim.control("GET", "/config").value["timeout_after_send_rate"]?.number == 1)
      let chat = "5511999998888@c.us"
      await #expect(throws: (any Error).self) {
        try await sendText(sim, to: chat, "já foi?", clientTimeout: 2)
      }
      try await eventually("the timed-out send in the log", within: .seconds(30)) {
        try await sim.messages().count == 1
      }
      let logged = try #require(try await sim.messages().first)
      #expect(logged.text == "já foi?" && logged.chatId == chat)

      #expect(try await sim.control("POST", "/config", ["timeout_rate": 0]).status == 200)
      let listed = try #require(try await sim.chatMessages(chat).value.array)
      #expect(listed.count == 1)
      #expect(listed.first?["id"]?.string == "true_\(chat)_\(logged.id)")
      #expect(listed.first?["body"] == "já foi?")
      _ = try await hooks.first("the timed-out message's ack") {
        $0.event == "message.ack" && $0.payload["id"]?.string == "true_\(chat)_\(logged.id)"
      }
    }
  }

  /// With `--timeout-after-send-rate 0.5`, both kinds of timeout happen.
  @Test func timeoutsSplitBetweenBeforeAndAfterTheSend() async throws {
    try await withSimulator(["--timeout-rate", "1", "--timeout-hold", "0ms"]) { sim, _ in
      #expect(try await sim.control("GET", "/config").value["timeout_after_send_rate"]?.number == 0.5)
      let tries = 40
      for index in 0..<tries {
        #expect(try await sim.sendText(to: "5511999998888@c.us", "m\(index)").status == 500)
      }
      // 40 fair coin flips all landing the same way: about 1 in 500 billion.
      let logged = try await sim.messages().count
      #expect(logged > 0 && logged < tries, "\(logged) of \(tries) timeouts came after the send")
    }
  }

  /// A send through a client that gives up after `clientTimeout` seconds, as a sender would.
  private func sendText(_ sim: SimProcess, to chatId: String, _ text: String, clientTimeout: TimeInterval)
    async throws
  {
    var request = URLRequest(url: URL(string: sim.base + "/api/sendText")!)
    request.httpMethod = "POST"
    request.setValue(sim.apiKey, forHTTPHeaderField: "X-Api-Key")
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    let body: JSONValue = ["session": "default", "chatId": .string(chatId), "text": .string(text)]
    request.httpBody = body.encoded()
    request.timeoutInterval = clientTimeout
    _ = try await URLSession.shared.data(for: request)
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
      try await eventually("the session to work again", within: .seconds(30)) {
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
