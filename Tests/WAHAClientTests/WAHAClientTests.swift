import Foundation
import OutboundHTTP
import TestSupport
import Testing
import WAHA

/// The WAHA client against the real `whago sim waha`: every answer WAHA documents lands in the
/// `WAHAError` that tells the campaign what to do.
@Suite struct WAHAClientTests {
  struct Simulator {
    let child: ChildProcess
    let base: String

    static func start() async throws -> Simulator {
      let port = try freePort()
      let child = try ChildProcess(
        executable: try Whago.binary,
        arguments: ["sim", "waha", "--port", String(port), "--api-key", "sim-key", "--sessions", "chip1,chip2"],
        label: "waha-sim")
      let base = "http://127.0.0.1:\(port)"
      try await eventually("the WAHA simulator to answer") {
        if !child.isRunning { throw TestSetupError("whago sim waha exited: \(child.output)") }
        return (try? await HTTP.send("GET", base + "/api/sessions", headers: ["X-Api-Key": "sim-key"]))?.status == 200
      }
      return Simulator(child: child, base: base)
    }

    func messages() async throws -> [[String: Any]] {
      let reply = try await HTTP.send("GET", base + "/_sim/messages", headers: ["X-Api-Key": "sim-key"])
      return try JSONSerialization.jsonObject(with: reply.body) as? [[String: Any]] ?? []
    }

    func configure(_ settings: [String: Any]) async throws {
      _ = try await HTTP.send(
        "POST", base + "/_sim/config", headers: ["Content-Type": "application/json", "X-Api-Key": "sim-key"],
        body: try JSONSerialization.data(withJSONObject: settings))
    }
  }

  @Test func aSendFollowsWAHAsAdviceAndIsLoggedOnce() async throws {
    let sim = try await Simulator.start()
    let http = HTTPClient()
    defer { http.close() }
    let waha = WAHAClient(baseURL: sim.base, apiKey: "sim-key", http: http)
    let session = try await waha.session("chip1")
    #expect(session.isWorking)
    // The ninth digit: asked without it, WAHA answers the chatId WhatsApp knows.
    let chatId = try await waha.chatId(forPhone: "551199998888", session: "chip1")
    #expect(chatId == "5511999998888@c.us")
    try await waha.sendSeen(session: "chip1", chatId: chatId)
    try await waha.startTyping(session: "chip1", chatId: chatId)
    try await waha.stopTyping(session: "chip1", chatId: chatId)
    let sent = try await waha.sendText(session: "chip1", chatId: chatId, text: "Oi, Ana!")
    #expect(!sent.id.isEmpty)
    let log = try await sim.messages()
    #expect(log.count == 1)
    #expect(log.first?["text"] as? String == "Oi, Ana!" && log.first?["chatId"] as? String == chatId)
    #expect(log.first?["id"] as? String == sent.id)
  }

  @Test func errorsSayWhatToDoNext() async throws {
    let sim = try await Simulator.start()
    let http = HTTPClient()
    defer { http.close() }
    let waha = WAHAClient(baseURL: sim.base, apiKey: "sim-key", http: http)
    let chat = "5511999998888@c.us"

    await #expect(throws: WAHAError.notOnWhatsApp("5511*****0000")) {
      try await waha.chatId(forPhone: "5511999990000", session: "chip1")
    }
    await #expect(throws: WAHAError.sessionNotFound("nochip")) {
      try await waha.sendText(session: "nochip", chatId: chat, text: "x")
    }
    await #expect(throws: WAHAError.unauthorized) {
      try await WAHAClient(baseURL: sim.base, apiKey: "wrong", http: http).sendText(
        session: "chip1", chatId: chat, text: "x")
    }
    _ = try await HTTP.send(
      "POST", sim.base + "/_sim/sessions/chip2/status",
      headers: ["Content-Type": "application/json", "X-Api-Key": "sim-key"], body: Data(#"{"status":"FAILED"}"#.utf8))
    do {
      _ = try await waha.sendText(session: "chip2", chatId: chat, text: "x")
      Issue.record("a FAILED session accepted a send")
    } catch .sessionNotWorking(let session, let status) {
      #expect(session == "chip2" && status == "FAILED")
    } catch {
      Issue.record("unexpected \(error)")
    }
    await #expect(throws: WAHAError.self) { try await waha.sendText(session: "chip1", chatId: "not-a-chat", text: "x") }

    try await sim.configure(["fail_rate": 1.0])
    do {
      _ = try await waha.sendText(session: "chip1", chatId: chat, text: "x")
      Issue.record("a failing WAHA accepted a send")
    } catch {
      #expect(error.isTransient, "\(error)")
    }
    try await sim.configure(["fail_rate": 0.0, "timeout_rate": 1.0])
    let hurried = WAHAClient(baseURL: sim.base, apiKey: "sim-key", http: http, timeout: .milliseconds(500))
    do {
      _ = try await hurried.sendText(session: "chip1", chatId: chat, text: "x")
      Issue.record("a hanging WAHA answered")
    } catch {
      #expect(error.isTransient, "\(error)")
      #expect(!"\(error)".contains("sim-key"))
    }
    // Nothing above was accepted, so nothing is in the simulator's log.
    #expect(try await sim.messages().isEmpty)
  }
}
