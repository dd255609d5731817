import Foundation
import OutboundHTTP
import Payments
import PaymentsSimulator
import TestSupport
import Testing

/// The Mercado Pago adapter against the simulator, whose card tokens play the sandbox's test
/// cardholder names (APRO, FUND, OTHE, SECU, CALL, CONT) and a few of ours.
@Suite struct MercadoPagoGatewayTests {
  @Test func everyPaymentStatus() async throws {
    try await withPaymentsSim { sim, http in
      let mp = MercadoPagoGateway(baseURL: sim.base, accessToken: sim.mercadoPagoToken, http: http)
      guard case .succeeded(let id) = try await mp.charge(chargeRequest("master:tok-APRO-1", amountCents: 9750)) else {
        Issue.record("APRO was not approved")
        return
      }
      #expect(Int64(id) != nil)
      for (token, detail) in [
        ("tok-FUND", "cc_rejected_insufficient_amount"), ("tok-OTHE", "cc_rejected_other_reason"),
        ("tok-SECU", "cc_rejected_bad_filled_security_code"), ("tok-CALL", "cc_rejected_call_for_authorize"),
      ] {
        let outcome = try await mp.charge(chargeRequest(token))
        #expect(outcome.isDeclined(code: detail, hard: false), "\(token): \(outcome)")
      }
      let blacklisted = try await mp.charge(chargeRequest("tok-BLCK"))
      #expect(blacklisted.isDeclined(code: "cc_rejected_blacklist", hard: true), "\(blacklisted)")
      guard case .requiresAction(let challenged?) = try await mp.charge(chargeRequest("tok-CHAL")) else {
        Issue.record("CHAL did not ask for a challenge")
        return
      }
      #expect(Int64(challenged) != nil)
      do throws(PaymentError) {
        _ = try await mp.charge(chargeRequest("tok-CONT"))
        Issue.record("a payment under review answered an outcome")
      } catch {
        #expect(error.isTransient && "\(error)".contains("pending_contingency"), "\(error)")
      }

      // The request as Mercado Pago reads it: reais from cents, the brand split off the token.
      let payment = try await HTTP.send(
        "GET", sim.base + "/v1/payments/\(id)", headers: ["Authorization": "Bearer \(sim.mercadoPagoToken)"]
      ).json()
      #expect(payment["transaction_amount"] as? Double == 97.5)
      #expect(payment["payment_method_id"] as? String == "master")
      #expect(payment["external_reference"] as? String == "invoice-42")
      #expect((payment["payer"] as? [String: Any])?["type"] as? String == "customer")
      #expect((payment["payer"] as? [String: Any])?["id"] as? String == "cus_ana")

      let log = try await sim.charges()
      #expect(
        log.map(\.outcome) == ["succeeded"] + Array(repeating: "declined", count: 5) + ["requires_action", "pending"])
      #expect(log.first?.amount == 9750 && log.first?.payment_id == id && log.first?.reference == "invoice-42")
    }
  }

  @Test func theSameKeyChargesOnce() async throws {
    try await withPaymentsSim { sim, http in
      let mp = MercadoPagoGateway(baseURL: sim.base, accessToken: sim.mercadoPagoToken, http: http)
      let request = chargeRequest("tok-APRO")
      let first = try await mp.charge(request)
      #expect(try await mp.charge(request) == first)
      #expect(try await sim.charges().count == 1)

      // Without X-Idempotency-Key, Mercado Pago refuses the payment.
      let bare = try await HTTP.send(
        "POST", sim.base + "/v1/payments",
        headers: ["Authorization": "Bearer \(sim.mercadoPagoToken)", "Content-Type": "application/json"],
        body: Data(#"{"transaction_amount":10,"token":"tok-APRO","payer":{"type":"customer","id":"c"}}"#.utf8))
      #expect(bare.status == 400 && bare.text.contains("X-Idempotency-Key"))
      #expect(try await sim.charges().count == 1)
    }
  }

  @Test func aPaymentWhoseAnswerWasLostIsNotRepeated() async throws {
    try await withPaymentsSim { sim, http in
      let hurried = MercadoPagoGateway(
        baseURL: sim.base, accessToken: sim.mercadoPagoToken, http: http, timeout: .milliseconds(500))
      let request = chargeRequest("tok-TIMEOUT")
      do throws(PaymentError) {
        _ = try await hurried.charge(request)
        Issue.record("a held answer arrived within the timeout")
      } catch {
        #expect(error.isTransient, "\(error)")
      }
      try await sim.waitForCharges(1)
      let outcome = try await hurried.charge(request)
      let log = try await sim.charges()
      #expect(log.count == 1)
      #expect(outcome == .succeeded(paymentID: log.first?.payment_id ?? "?"))
    }
  }

  /// A payment is found by its invoice (`external_reference`) and our key (metadata), not by the
  /// key's memory at Mercado Pago; another attempt's key finds nothing.
  @Test func aChargeIsLookedUpByItsReferenceAndKey() async throws {
    try await withPaymentsSim { sim, http in
      let mp = MercadoPagoGateway(baseURL: sim.base, accessToken: sim.mercadoPagoToken, http: http)
      let request = chargeRequest("tok-APRO", invoice: 4_242)
      let charged = try await mp.charge(request)
      #expect(try await mp.lookUp(request) == charged)
      #expect(try await mp.lookUp(chargeRequest("tok-APRO", invoice: 4_242)) == nil)
      #expect(try await mp.lookUp(chargeRequest("tok-APRO", invoice: 4_243)) == nil)
      #expect(try await sim.charges().count == 1)
    }
  }

  @Test func aWrongTokenIsRejectedWithoutShowingIt() async throws {
    try await withPaymentsSim { sim, http in
      let wrong = "APP_USR-wrong-\(UUID().uuidString)"
      let mp = MercadoPagoGateway(baseURL: sim.base, accessToken: wrong, http: http)
      do throws(PaymentError) {
        _ = try await mp.charge(chargeRequest("tok-APRO"))
        Issue.record("a wrong token charged")
      } catch {
        #expect(!error.isTransient && "\(error)".contains("401"), "\(error)")
        #expect(!"\(error)".contains(wrong))
      }
      let log = try await sim.charges()
      #expect(log.isEmpty)
    }
  }
}
