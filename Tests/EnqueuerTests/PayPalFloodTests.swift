import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OutboundHTTP
import Payments
import TestSupport
import Testing

@testable import Enqueuer

/// Anyone can POST to the PayPal webhook, and a delivery that passes the cheap checks costs a call
/// to PayPal: a flood of them gets only so many calls in flight, the rest a quick 503.
@Suite struct PayPalFloodTests {
  @Test func onlySixteenDeliveriesAreCheckedWithPayPalAtOnce() async throws {
    // PayPal answering slowly (4 s a call), so the first checks are still waiting when the rest arrive.
    let (sim, port) = try await Whago.server(["sim", "payments", "--latency", "4s"], label: "payments-sim-slow")
    defer { sim.signal(SIGKILL) }
    let base = "http://127.0.0.1:\(port)"
    let http = HTTPClient()
    defer { http.close() }
    var limits = EnqueuerServer.Limits()
    limits.gatewayWebhooks.payPal = PayPalWebhookVerifier(
      baseURL: base, clientID: "sim", clientSecret: "sim", webhookID: "WH-SIM", http: http)
    let event = Data(#"{"id":"WH-flood-\#(UUID().uuidString)","event_type":"PAYMENT.CAPTURE.COMPLETED"}"#.utf8)
    let signed = try await HTTP.send(
      "POST", base + "/_sim/paypal/sign", headers: ["Content-Type": "application/json"], body: event)
    let headers = try #require(try JSONSerialization.jsonObject(with: signed.body) as? [String: String])
    var fields: HTTPFields = [.contentType: "application/json"]
    for (name, value) in headers { fields[HTTPField.Name(name)!] = value }

    try await withInProcessEnqueuer(limits: limits) { [fields] client in
      let answers = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String).self) { group in
        for _ in 0..<24 {
          group.addTask {
            try await client.execute(
              uri: "/v1/webhooks/paypal", method: .post, headers: fields, body: ByteBuffer(bytes: event)
            ) { ($0.status, String(buffer: $0.body)) }
          }
        }
        return try await group.reduce(into: []) { $0.append($1) }
      }
      let busy = answers.filter { $0.0 == .serviceUnavailable && $0.1.contains("verification-busy") }
      #expect(busy.count == 24 - PayPalChecks.limit, "\(answers.map { "\($0.0.code) \($0.1.prefix(80))" })")
      #expect(answers.filter { $0.0 == .ok }.count == PayPalChecks.limit, "the others were checked and taken")
    }
  }
}
