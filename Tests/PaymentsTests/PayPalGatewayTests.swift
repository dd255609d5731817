import Foundation
import OutboundHTTP
import Payments
import PaymentsSimulator
import TestSupport
import Testing

/// The PayPal adapter against the simulator: OAuth, then an order captured in its create call on a
/// vaulted card, whose vault id picks the outcome.
@Suite struct PayPalGatewayTests {
  @Test func everyOrderOutcome() async throws {
    try await withPaymentsSim { sim, http in
      let paypal = PayPalGateway(
        baseURL: sim.base, clientID: sim.paypalClientID, clientSecret: sim.paypalSecret, http: http)
      guard case .succeeded(let captureID) = try await paypal.charge(chargeRequest("vault_ok", amountCents: 9705))
      else {
        Issue.record("a vaulted card was not captured")
        return
      }
      #expect(captureID.count == 17)
      let declined = try await paypal.charge(chargeRequest("vault_declined"))
      #expect(declined.isDeclined(code: "5120", hard: false), "\(declined)")
      let stolen = try await paypal.charge(chargeRequest("vault_stolen"))
      #expect(stolen.isDeclined(code: "9520", hard: true), "\(stolen)")
      let instrument = try await paypal.charge(chargeRequest("vault_instrument"))
      #expect(instrument == .declined(paymentID: nil, code: "INSTRUMENT_DECLINED", advice: nil, hard: false))
      guard case .requiresAction(let orderID?) = try await paypal.charge(chargeRequest("vault_action")) else {
        Issue.record("vault_action did not ask the payer to act")
        return
      }
      #expect(orderID.count == 17)

      let log = try await sim.charges()
      #expect(log.map(\.outcome) == ["succeeded", "declined", "declined", "declined", "requires_action"])
      #expect(log.first?.amount == 9705 && log.first?.payment_id == captureID)
      #expect(log.first?.customer == "cus_ana" && log.first?.reference == "invoice-42")
    }
  }

  @Test func theSameRequestIDChargesOnce() async throws {
    try await withPaymentsSim { sim, http in
      let paypal = PayPalGateway(
        baseURL: sim.base, clientID: sim.paypalClientID, clientSecret: sim.paypalSecret, http: http)
      let request = chargeRequest("vault_ok")
      let first = try await paypal.charge(request)
      #expect(try await paypal.charge(request) == first)
      #expect(try await sim.charges().count == 1)
    }
  }

  @Test func anOrderWhoseAnswerWasLostIsNotRepeated() async throws {
    try await withPaymentsSim { sim, http in
      let hurried = PayPalGateway(
        baseURL: sim.base, clientID: sim.paypalClientID, clientSecret: sim.paypalSecret, http: http,
        timeout: .milliseconds(500))
      let request = chargeRequest("vault_timeout")
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

  @Test func wrongCredentialsAreRejectedWithoutShowingThem() async throws {
    try await withPaymentsSim { sim, http in
      let secret = "wrong-secret-\(UUID().uuidString)"
      let paypal = PayPalGateway(baseURL: sim.base, clientID: sim.paypalClientID, clientSecret: secret, http: http)
      do throws(PaymentError) {
        _ = try await paypal.charge(chargeRequest("vault_ok"))
        Issue.record("wrong credentials charged")
      } catch {
        #expect(!error.isTransient && "\(error)".contains("401"), "\(error)")
        let basic = Data("\(sim.paypalClientID):\(secret)".utf8).base64EncodedString()
        #expect(!"\(error)".contains(secret) && !"\(error)".contains(basic))
      }
      let log = try await sim.charges()
      #expect(log.isEmpty)
      #expect(!sim.child.output.contains(sim.paypalSecret))
    }
  }
}
