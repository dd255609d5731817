import Foundation
import TestSupport
import Testing
import WAHASimulator
import Wire

/// `GET /api/{session}/chats/{chatId}/messages`, which a sender asks after a lost answer: it must
/// list exactly what the log holds for that chat, by the ids the sends answered.
@Suite struct ChatMessagesTests {
  @Test func listsTheChatsSendsNewestFirstByTheirFullIDs() async throws {
    try await withSimulator(["--sessions", "chip1,chip2"]) { sim, _ in
      let chat = "5511999998888@c.us"
      var ids: [String] = []
      for text in ["primeira", "segunda", "terceira"] {
        let reply = try await sim.sendText(session: "chip1", to: chat, text)
        #expect(reply.status == 201)
        ids.append(try #require(try reply.value["key"]?["id"]?.string))
      }
      // Another chat and the same chat on another session are not listed.
      #expect(try await sim.sendText(session: "chip1", to: "5521987654321@c.us", "outro chat").status == 201)
      #expect(try await sim.sendText(session: "chip2", to: chat, "outra sessão").status == 201)

      let reply = try await sim.chatMessages(session: "chip1", chat)
      #expect(reply.status == 200, "\(reply.text)")
      let listed = try #require(try reply.value.array)
      #expect(listed.map { $0["body"]?.string } == ["terceira", "segunda", "primeira"])
      #expect(listed.map { $0["id"]?.string } == ids.reversed().map { "true_\(chat)_\($0)" })
      let log = try await sim.messages().filter { $0.session == "chip1" && $0.chatId == chat }
      for message in listed {
        let logged = try #require(log.first { "true_\(chat)_\($0.id)" == message["id"]?.string })
        #expect(message["timestamp"]?.number == Double(logged.time / 1000))
        #expect(message["fromMe"] == true && message["from"]?.string == chat && message["hasMedia"] == false)
      }

      // %40 for the @ names the same chat.
      let encoded = try await sim.chatMessages(session: "chip1", "5511999998888%40c.us")
      #expect(try encoded.value.array?.count == 3)
      #expect(try await sim.chatMessages(session: "chip1", chat, "limit=2").value.array?.count == 2)
      #expect(try await sim.chatMessages(session: "chip1", chat, "limit=1").value.array?.first?["body"] == "terceira")
      #expect(try await sim.chatMessages(session: "chip1", chat, "filter.fromMe=true").value.array?.count == 3)
      #expect(try await sim.chatMessages(session: "chip1", chat, "filter.fromMe=false").value.array == [])
      let now = Int(Date().timeIntervalSince1970)
      #expect(
        try await sim.chatMessages(session: "chip1", chat, "filter.timestamp.gte=\(now - 60)").value.array?.count == 3)
      #expect(try await sim.chatMessages(session: "chip1", chat, "filter.timestamp.gte=\(now + 60)").value.array == [])
    }
  }

  /// Acks in the listing advance at the same moments as the `message.ack` webhooks: 0 PENDING, then
  /// one step as each delay from the send passes. Nothing assumes how soon a request is answered:
  /// each listing is checked against this machine's clock read just before and just after it (the
  /// simulator runs here, on the same clock), and against the webhooks delivered before it was asked.
  @Test func acksAdvanceAsTheWebhooksDo() async throws {
    let delays = [1_000, 2_000, 3_000]
    try await withSimulator(["--ack-delays", "1s,2s,3s"]) { sim, hooks in
      let chat = "5511999998888@c.us"
      let reply = try await sim.sendText(to: chat, "x")
      #expect(reply.status == 201)
      let id = try #require(try reply.value["key"]?["id"]?.string)
      let sent = try #require(try await sim.messages().first { $0.id == id }).time
      // The ack due at `time` (ms since 1970): how many of the delays have passed since the send.
      func due(_ time: Double) -> Int { delays.filter { Double(sent + $0) <= time }.count }
      func deliveredAcks() -> [Int] {
        hooks.deliveries.filter { $0.event == "message.ack" }.compactMap { $0.payload["ack"]?.number }.map { Int($0) }
      }
      var seen: [Int] = []
      try await eventually("the message to be read", within: .seconds(30)) {
        let delivered = deliveredAcks().max() ?? 0
        // A millisecond either side: the simulator rounds its clock to the nearest millisecond.
        let before = Date().timeIntervalSince1970 * 1000 - 1
        let listed = try await sim.chatMessages(chat).value.array ?? []
        let after = Date().timeIntervalSince1970 * 1000 + 1
        #expect(listed.count == 1 && listed.first?["id"]?.string == "true_\(chat)_\(id)", "\(listed)")
        let ack = Int(try #require(listed.first?["ack"]?.number))
        // Never ahead of the delays, never behind them, never behind a webhook already delivered.
        #expect(
          ack >= due(before) && ack <= due(after),
          "ack \(ack), \(before - Double(sent)) ms to \(after - Double(sent)) ms after the send")
        #expect(ack >= delivered, "ack \(ack) after the webhook for ack \(delivered) was delivered")
        seen.append(ack)
        return ack == 3
      }
      #expect(seen == seen.sorted(), "acks went back: \(seen)")
      // Each webhook went out no sooner than its step is due, which is when the listing shows it.
      try await eventually("the three message.ack webhooks", within: .seconds(30)) {
        Set(deliveredAcks()) == [1, 2, 3]
      }
      for delivery in hooks.deliveries where delivery.event == "message.ack" {
        let ack = Int(try #require(delivery.payload["ack"]?.number))
        try #require((1...3).contains(ack), "ack \(ack)")
        let timestamp = try #require(delivery.json["timestamp"]?.number)
        #expect(delivery.payload["id"]?.string == "true_\(chat)_\(id)")
        #expect(
          timestamp >= Double(sent + delays[ack - 1]), "ack \(ack) sent \(timestamp - Double(sent)) ms after the send")
      }
    }
  }

  @Test func refusesLikeWAHA() async throws {
    try await withSimulator { sim, _ in
      let chat = "5511999998888@c.us"
      #expect(try await sim.chatMessages(session: "nope", chat).status == 404)
      for query in ["limit=0", "limit=ten", "filter.timestamp.gte=soon", "filter.fromMe=maybe"] {
        let reply = try await sim.chatMessages(chat, query)
        #expect(reply.status == 400, "\(query): \(reply.text)")
      }
      #expect(try await sim.api("GET", "/api/default/chats/\(chat)/messages", key: "wrong").status == 401)
      #expect(try await sim.api("POST", "/api/sessions/default/stop").status == 201)
      let stopped = try await sim.chatMessages(chat)
      #expect(stopped.status == 422)
      #expect(try stopped.value["status"] == "STOPPED")
    }
  }
}
