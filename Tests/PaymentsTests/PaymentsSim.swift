import Foundation
import OutboundHTTP
import Payments
import PaymentsSimulator
import TestSupport

/// A real `whago sim payments` on a port of the kernel's choosing, with the credentials the gateways are built with.
final class PaymentsSim: Sendable {
  let child: ChildProcess
  let port: Int
  let stripeKey = "sk_test_\(UUID().uuidString.prefix(8))"
  let mercadoPagoToken = "TEST-\(UUID().uuidString.prefix(8))"
  let paypalClientID = "client-\(UUID().uuidString.prefix(8))"
  let paypalSecret = "secret-\(UUID().uuidString.prefix(8))"
  let paypalWebhookID = "WH-\(UUID().uuidString.prefix(8))"
  var base: String { "http://127.0.0.1:\(port)" }

  init(extra: [String] = []) async throws {
    (child, port) = try await Whago.server(
      [
        "sim", "payments", "--latency", "0ms", "--stripe-key", stripeKey,
        "--mercadopago-token", mercadoPagoToken, "--paypal-client-id", paypalClientID, "--paypal-client-secret",
        paypalSecret, "--paypal-webhook-id", paypalWebhookID,
      ] + extra,
      label: "sim-payments")
    try await eventually("whago sim payments to answer /ping", within: .seconds(30), every: .milliseconds(50)) {
      if !self.child.isRunning { throw TestSetupError("whago sim payments exited: \(self.child.output)") }
      return (try? await HTTP.send("GET", "\(self.base)/ping"))?.status == 200
    }
  }

  /// Every charge the simulator made, oldest first.
  func charges() async throws -> [ChargeRecord] {
    try JSONDecoder().decode([ChargeRecord].self, from: try await HTTP.send("GET", base + "/_sim/charges").body)
  }

  /// Waits until the simulator has made `count` charges (a charge whose answer is held is made first).
  func waitForCharges(_ count: Int) async throws {
    try await eventually("\(count) charges in the simulator's log", within: .seconds(10), every: .milliseconds(20)) {
      (try? await self.charges().count) == count
    }
  }

  func configure(_ settings: [String: Int]) async throws {
    let reply = try await HTTP.send(
      "POST", base + "/_sim/config", headers: ["Content-Type": "application/json"],
      body: try JSONSerialization.data(withJSONObject: settings))
    guard reply.status == 200 else { throw TestSetupError("/_sim/config answered \(reply.status): \(reply.text)") }
  }

  func stop() async throws {
    child.signal(SIGTERM)
    try await child.waitForExit()
  }
}

/// Runs `body` against a fresh simulator and an HTTP client, and stops both whether `body` passes
/// or throws (with the simulator's log in the failure).
func withPaymentsSim(_ extra: [String] = [], _ body: (PaymentsSim, HTTPClient) async throws -> Void) async throws {
  let sim = try await PaymentsSim(extra: extra)
  let http = HTTPClient()
  defer { http.close() }
  do {
    try await body(sim, http)
  } catch {
    try? await sim.stop()
    throw TestSetupError("\(error)\n--- simulator log ---\n\(sim.child.output)")
  }
  try await sim.stop()
}

/// A charge with a fresh idempotency key.
func chargeRequest(
  _ paymentMethod: String, amountCents: Int = 9700, key: String = UUID().uuidString, invoice: Int64 = 42,
  customer: String = "cus_ana", description: String = "WHAGO Pro, março"
) -> ChargeRequest {
  ChargeRequest(
    invoiceID: invoice, amountCents: amountCents, currency: "BRL", customer: customer, paymentMethod: paymentMethod,
    idempotencyKey: key, description: description)
}
