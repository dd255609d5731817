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
      let (child, port) = try await Whago.server(
        ["sim", "waha", "--api-key", "sim-key", "--sessions", "chip1,chip2"], label: "waha-sim")
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

    await #expect(throws: WAHAError.notOnWhatsApp("551*******000")) {
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
    try await sim.configure(["fail_rate": 0.0, "timeout_rate": 1.0, "timeout_after_send_rate": 0.0])
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

  /// A chat's address holds its phone number: errors (and the logs they end in) show it masked.
  @Test func errorsNeverShowAChatsPhoneNumber() async throws {
    let sim = try await Simulator.start()
    let http = HTTPClient()
    defer { http.close() }
    let chat = "5511999998888@c.us"
    try await sim.configure(["fail_rate": 1.0])
    let closed = try ClosedPort()
    defer { closed.close() }
    for base in [sim.base, "http://127.0.0.1:\(closed.port)"] {
      let waha = WAHAClient(baseURL: base, apiKey: "sim-key", http: http)
      do {
        _ = try await waha.messages(session: "chip1", chatId: chat, since: nil)
        Issue.record("\(base): a failing WAHA listed messages")
      } catch {
        #expect(error.isTransient, "\(error)")
        #expect(!"\(error)".contains("99999") && "\(error)".contains("/chats/551*******888@c.us/"), "\(error)")
      }
    }
    #expect(
      WAHAClient.shown("http://w:1/api/s/chats/5511999998888%40c.us/messages?x=1")
        == "http://w:1/api/s/chats/551*******888@c.us/messages")
  }

  /// What a sender asks after a lost answer: the chat's own sends, newest first, under the ids the
  /// sends answered; `since` and `fromMe` reach WAHA, so they narrow what comes back.
  @Test func chatMessagesListWhatWasSent() async throws {
    let sim = try await Simulator.start()
    let http = HTTPClient()
    defer { http.close() }
    let waha = WAHAClient(baseURL: sim.base, apiKey: "sim-key", http: http)
    let chat = "5511999998888@c.us"
    let before = Date()
    let first = try await waha.sendText(session: "chip1", chatId: chat, text: "Oi, Ana!")
    let second = try await waha.sendText(session: "chip1", chatId: chat, text: "Tudo bem?")
    _ = try await waha.sendText(session: "chip1", chatId: "5521987654321@c.us", text: "outro chat")

    let listed = try await waha.messages(session: "chip1", chatId: chat, since: before)
    #expect(listed.map(\.shortID) == [second.id, first.id])
    #expect(listed.map(\.body) == ["Tudo bem?", "Oi, Ana!"])
    #expect(listed.allSatisfy { $0.fromMe && $0.id == "true_\(chat)_\($0.shortID)" })
    #expect(listed.allSatisfy { abs(Double($0.timestamp) - before.timeIntervalSince1970) < 60 })
    #expect(try await waha.messages(session: "chip1", chatId: chat, since: nil, limit: 1).map(\.shortID) == [second.id])
    #expect(try await waha.messages(session: "chip1", chatId: chat, fromMe: nil, since: nil).count == 2)

    // The filters travel: a later `since` or `fromMe: false` leaves nothing.
    #expect(try await waha.messages(session: "chip1", chatId: chat, since: before.addingTimeInterval(3600)).isEmpty)
    #expect(try await waha.messages(session: "chip1", chatId: chat, fromMe: false, since: before).isEmpty)

    await #expect(throws: WAHAError.sessionNotFound("nochip")) {
      try await waha.messages(session: "nochip", chatId: chat, since: nil)
    }
    _ = try await HTTP.send(
      "POST", sim.base + "/_sim/sessions/chip2/status",
      headers: ["Content-Type": "application/json", "X-Api-Key": "sim-key"], body: Data(#"{"status":"FAILED"}"#.utf8))
    await #expect(throws: WAHAError.sessionNotWorking(session: "chip2", status: "FAILED")) {
      try await waha.messages(session: "chip2", chatId: chat, since: nil)
    }
  }

  /// The case the listing exists for: the send timed out at the client after WAHA had sent it.
  @Test func aTimedOutSendIsFoundInTheChat() async throws {
    let sim = try await Simulator.start()
    let http = HTTPClient()
    defer { http.close() }
    let waha = WAHAClient(baseURL: sim.base, apiKey: "sim-key", http: http)
    let hurried = WAHAClient(baseURL: sim.base, apiKey: "sim-key", http: http, timeout: .milliseconds(500))
    let chat = "5511999998888@c.us"
    let before = Date()
    try await sim.configure(["timeout_rate": 1.0, "timeout_after_send_rate": 1.0, "timeout_hold_ms": 5000])
    do {
      _ = try await hurried.sendText(session: "chip1", chatId: chat, text: "Oi, Ana!")
      Issue.record("a hanging WAHA answered")
    } catch {
      #expect(error.isTransient, "\(error)")
    }
    try await sim.configure(["timeout_rate": 0.0])
    let listed = try await waha.messages(session: "chip1", chatId: chat, since: before)
    #expect(listed.map(\.body) == ["Oi, Ana!"])
    #expect(listed.first?.shortID == (try await sim.messages()).first?["id"] as? String)
  }

  @Test func chatMessageDecodesWAHAsShape() throws {
    let json = #"""
      [{"id":"true_5511999999999@c.us_3EB08A6F1C2D3E4F5A6B","timestamp":1735689600,"from":"5511999999999@c.us",
        "fromMe":true,"body":"text","hasMedia":false,"ack":1,"_data":{"anything":["goes"]}}]
      """#
    let messages = try JSONDecoder().decode([ChatMessage].self, from: Data(json.utf8))
    #expect(
      messages == [
        ChatMessage(
          id: "true_5511999999999@c.us_3EB08A6F1C2D3E4F5A6B", timestamp: 1_735_689_600, fromMe: true, body: "text",
          hasMedia: false, ack: 1)
      ])
    #expect(messages.first?.shortID == "3EB08A6F1C2D3E4F5A6B")
    // In a group the participant follows the message id.
    let inGroup = ChatMessage(id: "false_120363@g.us_3EB0AA_5511999999999@c.us", timestamp: 0, fromMe: false, body: nil)
    #expect(inGroup.shortID == "3EB0AA")
    #expect(ChatMessage(id: "3EB0AA", timestamp: 0, fromMe: true, body: nil).shortID == "3EB0AA")
  }

  /// Numbers of every length up to 15 digits (E.164's longest) are masked without trapping: as long
  /// as the number, never the whole of it, never more than half of its digits, each in its place.
  @Test func maskNeverShowsMoreThanHalfOfANumber() {
    let all = "551199998765432"
    for length in 1...all.count {
      let digits = String(all.prefix(length))
      let masked = WAHAClient.mask(digits)
      #expect(masked.count == digits.count, "\(digits) -> \(masked)")
      #expect(masked != digits, "\(digits) -> \(masked)")
      #expect(masked.contains("*"), "\(digits) -> \(masked)")
      #expect(2 * masked.filter { $0 != "*" }.count <= digits.count, "\(digits) -> \(masked)")
      #expect(zip(masked, digits).allSatisfy { $0 == "*" || $0 == $1 }, "\(digits) -> \(masked)")
    }
    #expect(WAHAClient.mask("5511999990000") == "551*******000")
    #expect(WAHAClient.mask("1234567") == "1*****7")
    #expect(WAHAClient.mask("12345678") == "12****78")
    #expect(WAHAClient.mask("123456789012345") == "123*********345")
    #expect(WAHAClient.mask("123") == "***")
    #expect(WAHAClient.mask("") == "")
  }
}
