import Crypto
import Foundation
import Postgres
import TestSupport
import Testing

extension EnqueuerSuite {
  /// WAHA's webhooks, sent by the real simulator and signed as WAHA signs them, change the chip's
  /// status and record opt-outs; forged, unsigned or replayed ones change nothing.
  @Suite struct WAHAWebhookTests {
    @Test func signedEventsApplyOnceAndForgedOnesNever() async throws {
      let secret = "whsec-\(UUID().uuidString)"
      try await EnqueuerFixture.with(
        plan: "business", environment: ["WHAGO_WAHA_WEBHOOK_SECRET": secret]
      ) { f in
        let session = "s\(f.tenant.suffix(12))"
        let (sim, simPort) = try await Whago.server(
          [
            "sim", "waha", "--sessions", session, "--webhook-url", f.url("/v1/webhooks/waha"), "--webhook-secret",
            secret,
            "--ack-delays", "none",
          ], label: "waha-sim")
        let simBase = "http://127.0.0.1:\(simPort)"
        try await eventually("the simulator to answer") {
          (try? await HTTP.send("GET", simBase + "/api/sessions"))?.status == 200
        }
        let registered = try await f.post(
          "/v1/chips", key: f.serviceKey, tenant: f.tenant,
          json: ["name": "vendas", "waha_url": simBase, "session": session])
        #expect(registered.status == 201)

        func chipStatus() async throws -> (String?, Bool) {
          let chips =
            try await f.get("/v1/chips", key: f.serviceKey, tenant: f.tenant).json()["chips"] as? [[String: Any]]
          return (chips?.first?["status"] as? String, !(chips?.first?["stopped_working_at"] is NSNull))
        }
        _ = try await HTTP.send(
          "POST", simBase + "/_sim/sessions/\(session)/status", headers: ["Content-Type": "application/json"],
          body: Data(#"{"status":"FAILED"}"#.utf8))
        try await eventually("the chip to be FAILED") { try await chipStatus() == ("FAILED", true) }

        // A reply with an opt-out word: the number is never sent to again by this tenant.
        _ = try await HTTP.send(
          "POST", simBase + "/_sim/incoming", headers: ["Content-Type": "application/json"],
          body: Data(#"{"session":"\#(session)","from":"5511988887777@c.us","body":"SAIR"}"#.utf8))
        let pool = try TestDatabase.pool(size: 1)
        defer { pool.close() }
        let tenantID = try await pool.query("SELECT id FROM tenants WHERE name = $1", [f.tenant])[0].decode(
          "id", as: Int64.self)
        try await eventually("the opt-out to be recorded") {
          try await pool.query(
            "SELECT 1 FROM opt_outs WHERE tenant_id = $1 AND phone = '+5511988887777' AND source = 'reply'", [tenantID]
          ).count == 1
        }

        // Forged, unsigned and replayed webhooks: the chip stays FAILED.
        let body = Data(
          #"{"id":"evt_forged\#(f.tenant)","timestamp":1,"event":"session.status","session":"\#(session)","payload":{"name":"\#(session)","status":"WORKING"}}"#
            .utf8)
        let forged = try await HTTP.send(
          "POST", f.url("/v1/webhooks/waha"), headers: ["Content-Type": "application/json", "X-Webhook-Hmac": "00ff"],
          body: body)
        #expect(forged.status == 401 && forged.isProblem)
        let unsigned = try await HTTP.send(
          "POST", f.url("/v1/webhooks/waha"), headers: ["Content-Type": "application/json"], body: body)
        #expect(unsigned.status == 401)
        let wrongKey = HMAC<SHA512>.authenticationCode(for: body, using: SymmetricKey(data: Data("guess".utf8)))
        let guessed = try await HTTP.send(
          "POST", f.url("/v1/webhooks/waha"),
          headers: ["X-Webhook-Hmac": wrongKey.map { String(format: "%02x", $0) }.joined()], body: body)
        #expect(guessed.status == 401)
        #expect(try await chipStatus().0 == "FAILED")

        // Signed right, it applies once; the same delivery again is a duplicate.
        let good = HMAC<SHA512>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        let signature = good.map { String(format: "%02x", $0) }.joined()
        let applied = try await HTTP.send(
          "POST", f.url("/v1/webhooks/waha"), headers: ["X-Webhook-Hmac": signature], body: body)
        #expect(try applied.json()["result"] as? String == "applied")
        #expect(try await chipStatus() == ("WORKING", false))
        let replayed = try await HTTP.send(
          "POST", f.url("/v1/webhooks/waha"), headers: ["X-Webhook-Hmac": signature], body: body)
        #expect(try replayed.json()["result"] as? String == "duplicate")
        sim.signal(SIGKILL)
      }
    }

    /// Each chip has its own receiver and key. A session configured with them (as a tenant's own
    /// WAHA would be) updates its chip; that key signs for no other chip, whatever the body names,
    /// and the shared secret is not accepted on a chip's receiver.
    @Test func aChipsKeySignsForThatChipOnly() async throws {
      let secret = "whsec-\(UUID().uuidString)"
      try await EnqueuerFixture.with(
        plan: "business", environment: ["WHAGO_WAHA_WEBHOOK_SECRET": secret]
      ) { f in
        let (sim, simPort) = try await Whago.server(["sim", "waha", "--ack-delays", "none"], label: "waha-sim")
        defer { sim.signal(SIGKILL) }
        let simBase = "http://127.0.0.1:\(simPort)"
        try await eventually("the simulator to answer") {
          (try? await HTTP.send("GET", simBase + "/api/sessions"))?.status == 200
        }
        let mine = "a\(f.tenant.suffix(12))"
        let theirs = "b\(f.tenant.suffix(12))"
        var ids: [String: Int64] = [:]
        for session in [mine, theirs] {
          let registered = try await f.post(
            "/v1/chips", key: f.serviceKey, tenant: f.tenant,
            json: ["name": session, "waha_url": simBase, "session": session])
          #expect(registered.status == 201)
          ids[session] = try #require(registered.json()["id"] as? Int).map(Int64.init)
        }
        let mineID = try #require(ids[mine])
        let theirsID = try #require(ids[theirs])
        func status(_ id: Int64) async throws -> String? {
          try await f.get("/v1/chips/\(id)", key: f.serviceKey, tenant: f.tenant).json()["status"] as? String
        }

        // The chip's settings, put into a real session's config: its events arrive and apply.
        let settings = try await f.get("/v1/chips/\(mineID)/webhook", key: f.serviceKey, tenant: f.tenant).json()
        let path = try #require(settings["path"] as? String, "\(settings)")
        let key = try #require(settings["hmac_key"] as? String)
        #expect(path == "/v1/webhooks/waha/chips/\(mineID)" && key.count == 64 && key != secret)
        let theirKey = try #require(
          try await f.get("/v1/chips/\(theirsID)/webhook", key: f.serviceKey, tenant: f.tenant).json()["hmac_key"]
            as? String)
        #expect(theirKey != key)
        let config: [String: Any] = [
          // Not started: its only event is the one this test causes, so none can arrive after it.
          "name": mine, "start": false,
          "config": ["webhooks": [["url": f.url(path), "events": ["session.status"], "hmac": ["key": key]]]],
        ]
        let created = try await HTTP.send(
          "POST", simBase + "/api/sessions", headers: ["Content-Type": "application/json"],
          body: try JSONSerialization.data(withJSONObject: config))
        #expect(created.status == 201)
        _ = try await HTTP.send(
          "POST", simBase + "/_sim/sessions/\(mine)/status", headers: ["Content-Type": "application/json"],
          body: Data(#"{"status":"FAILED"}"#.utf8))
        try await eventually("the chip to be FAILED") { try await status(mineID) == "FAILED" }
        let before = try await status(theirsID)

        func post(_ path: String, session: String, metadataChip: Int64, signedWith signingKey: String) async throws
          -> HTTP.Reply
        {
          let body = Data(
            #"{"id":"evt_\#(UUID().uuidString)","event":"session.status","session":"\#(session)","metadata":{"whago_chip_id":"\#(metadataChip)"},"payload":{"name":"\#(session)","status":"STOPPED"}}"#
              .utf8)
          let code = HMAC<SHA512>.authenticationCode(for: body, using: SymmetricKey(data: Data(signingKey.utf8)))
          return try await HTTP.send(
            "POST", f.url(path),
            headers: [
              "Content-Type": "application/json", "X-Webhook-Hmac": code.map { String(format: "%02x", $0) }.joined(),
            ], body: body)
        }
        let theirPath = "/v1/webhooks/waha/chips/\(theirsID)"
        // My key on their receiver, and the shared secret on their receiver: 401.
        #expect(try await post(theirPath, session: theirs, metadataChip: theirsID, signedWith: key).status == 401)
        #expect(try await post(theirPath, session: theirs, metadataChip: theirsID, signedWith: secret).status == 401)
        // My receiver and key, with a body naming their chip and session: it is about my chip, whose
        // session it does not name, so it is ignored.
        let namingTheirs = try await post(path, session: theirs, metadataChip: theirsID, signedWith: key)
        #expect(namingTheirs.status == 200)
        #expect(try namingTheirs.json()["result"] as? String == "ignored")
        // An id that is no chip's is signed by no key.
        #expect(
          try await post("/v1/webhooks/waha/chips/0", session: mine, metadataChip: 0, signedWith: key).status == 401)
        #expect(try await status(theirsID) == before)
        #expect(try await status(mineID) == "FAILED")
        // And the right one applies.
        let right = try await post(path, session: mine, metadataChip: mineID, signedWith: key)
        #expect(try right.json()["result"] as? String == "applied")
        #expect(try await status(mineID) == "STOPPED")
      }
    }
  }
}
