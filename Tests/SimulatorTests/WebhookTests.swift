import Crypto
import Foundation
import TestSupport
import Testing
import WAHASimulator
import Wire

@Suite struct WebhookTests {
  /// Recomputed here with swift-crypto rather than through the simulator's own signer.
  func hmacHex(_ key: String, _ body: Data) -> String {
    HMAC<SHA512>.authenticationCode(for: body, using: SymmetricKey(data: Data(key.utf8)))
      .map { String(format: "%02x", $0) }.joined()
  }

  @Test func acceptedSendIsAckedServerDeviceReadWithValidSignatures() async throws {
    let secret = "whsec-\(UUID().uuidString)"
    try await withSimulator(["--ack-delays", "20ms,40ms,80ms"], webhookSecret: secret) { sim, hooks in
      let reply = try await sim.sendText(to: "5511999998888@c.us", "Oi")
      let id = try #require(try reply.value["key"]?["id"]?.string)
      let messageID = "true_5511999998888@c.us_\(id)"

      try await eventually("three message.ack webhooks", within: .seconds(30)) {
        hooks.deliveries.filter { $0.event == "message.ack" }.count == 3
      }
      let acks = hooks.deliveries.filter { $0.event == "message.ack" }.sorted {
        ($0.payload["ack"]?.number ?? 0) < ($1.payload["ack"]?.number ?? 0)
      }
      #expect(acks.map { $0.payload["ackName"]?.string } == ["SERVER", "DEVICE", "READ"])
      for ack in acks {
        #expect(ack.payload["id"]?.string == messageID)
        #expect(ack.payload["from"] == "5511999998888@c.us")
        #expect(ack.payload["fromMe"] == true)
        #expect(ack.json["session"] == "default")
        #expect(ack.json["engine"] == "NOWEB")
        let eventID = try #require(ack.json["id"]?.string)
        #expect(eventID.wholeMatch(of: /evt_[0-9A-HJKMNP-TV-Z]{26}/) != nil)
        #expect(ack.json["timestamp"]?.number != nil)
        #expect(ack.header("X-Webhook-Hmac") == hmacHex(secret, ack.body))
        #expect(ack.header("X-Webhook-Hmac-Algorithm") == "sha512")
        #expect(ack.header("X-Webhook-Request-Id")?.isEmpty == false)
        #expect(ack.header("X-Webhook-Timestamp").flatMap(Int.init) != nil)
      }
      #expect(Set(acks.compactMap { $0.json["id"]?.string }).count == 3)
    }
  }

  @Test func withoutSecretNoSignatureIsSent() async throws {
    try await withSimulator { sim, hooks in
      #expect(try await sim.sendText(to: "5511999998888@c.us", "Oi").status == 201)
      let ack = try await hooks.first("a message.ack webhook") { $0.event == "message.ack" }
      #expect(ack.header("X-Webhook-Hmac") == nil)
    }
  }

  /// A failed send is not acked: only what WAHA accepted is ever delivered.
  @Test func failedSendsAreNotAcked() async throws {
    try await withSimulator(["--fail-rate", "1", "--ack-delays", "1ms,2ms,3ms"]) { sim, hooks in
      #expect(try await sim.sendText(to: "5511999998888@c.us", "x").status == 500)
      #expect(try await sim.control("POST", "/config", ["fail_rate": 0]).status == 200)
      #expect(try await sim.sendText(to: "5511999998888@c.us", "y").status == 201)
      let id = try #require(try await sim.messages().first?.id)
      try await eventually("the accepted send's acks", within: .seconds(30)) {
        hooks.deliveries.filter { $0.event == "message.ack" }.count == 3
      }
      #expect(
        hooks.deliveries.filter { $0.event == "message.ack" }.allSatisfy {
          $0.payload["id"]?.string?.hasSuffix(id) == true
        })
    }
  }

  @Test func incomingReplyIsAMessageWebhook() async throws {
    let secret = "incoming-secret"
    try await withSimulator(webhookSecret: secret) { sim, hooks in
      let reply = try await sim.control(
        "POST", "/incoming", ["session": "default", "from": "5511999998888@c.us", "body": "SAIR"])
      #expect(reply.status == 201)
      let message = try await hooks.first("a message webhook") { $0.event == "message" }
      #expect(message.json["session"] == "default")
      #expect(message.payload["from"] == "5511999998888@c.us")
      #expect(message.payload["fromMe"] == false)
      #expect(message.payload["body"] == "SAIR")
      #expect(message.payload["hasMedia"] == false)
      #expect(message.payload["id"]?.string?.hasPrefix("false_5511999998888@c.us_") == true)
      #expect(message.header("X-Webhook-Hmac") == hmacHex(secret, message.body))

      #expect(
        try await sim.control("POST", "/incoming", ["session": "ghost", "from": "5511999998888@c.us", "body": "x"])
          .status == 404)
    }
  }
}
