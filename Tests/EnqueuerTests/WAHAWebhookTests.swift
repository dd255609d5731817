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
  }
}
