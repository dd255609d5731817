import Foundation
import OutboundHTTP
import Payments
import PaymentsSimulator
import TestSupport
import Testing

/// The Stripe adapter against the simulator: every off-session outcome Stripe documents, and the
/// idempotency that makes a retry safe.
@Suite struct StripeGatewayTests {
  @Test func everyOutcomeOfAnOffSessionCharge() async throws {
    try await withPaymentsSim { sim, http in
      let stripe = StripeGateway(baseURL: sim.base, secretKey: sim.stripeKey, http: http)
      guard case .succeeded(let id) = try await stripe.charge(chargeRequest("pm_card_visa")) else {
        Issue.record("pm_card_visa did not succeed")
        return
      }
      #expect(id.hasPrefix("pi_"))
      let generic = try await stripe.charge(chargeRequest("pm_card_chargeDeclined"))
      guard case .declined(let declinedID?, "generic_decline", "try_again_later", false) = generic else {
        Issue.record("pm_card_chargeDeclined: \(generic)")
        return
      }
      #expect(declinedID.hasPrefix("pi_"))
      let funds = try await stripe.charge(chargeRequest("pm_card_chargeDeclinedInsufficientFunds"))
      #expect(funds.isDeclined(code: "insufficient_funds", hard: false), "\(funds)")
      let lost = try await stripe.charge(chargeRequest("pm_card_chargeDeclinedLostCard"))
      #expect(lost.isDeclined(code: "lost_card", hard: true), "\(lost)")
      #expect(
        try await stripe.charge(chargeRequest("pm_card_chargeDeclinedFraudulent")).isDeclined(
          code: "fraudulent", hard: true))
      let authentication = try await stripe.charge(chargeRequest("pm_card_authenticationRequired"))
      guard case .requiresAction(let actionID?) = authentication else {
        Issue.record("pm_card_authenticationRequired: \(authentication)")
        return
      }
      #expect(actionID.hasPrefix("pi_"))

      let log = try await sim.charges()
      #expect(
        log.map(\.outcome) == ["succeeded", "declined", "declined", "declined", "declined", "requires_action"])
      #expect(log.allSatisfy { $0.gateway == "stripe" && $0.amount == 9700 && $0.customer == "cus_ana" })
      #expect(log.first?.payment_id == id)
    }
  }

  /// What the form carried arrives intact: brackets, accents, `&`, `=` and `+` percent-encoded.
  @Test func theFormIsEncodedProperly() async throws {
    try await withPaymentsSim { sim, http in
      let stripe = StripeGateway(baseURL: sim.base, secretKey: sim.stripeKey, http: http)
      let description = "Plano Pro – março & abril = 2x +1 ção/100%"
      _ = try await stripe.charge(chargeRequest("pm_card_visa", invoice: 987_654, description: description))
      let record = try #require(try await sim.charges().first)
      #expect(record.description == description)
      #expect(record.reference == "987654")
    }
  }

  @Test func theSameKeyChargesOnce() async throws {
    try await withPaymentsSim { sim, http in
      let stripe = StripeGateway(baseURL: sim.base, secretKey: sim.stripeKey, http: http)
      let request = chargeRequest("pm_card_visa")
      let first = try await stripe.charge(request)
      let second = try await stripe.charge(request)
      #expect(first == second)
      #expect(try await sim.charges().count == 1)
      // A decline is replayed too: the retry does not reach the issuer again.
      let declined = chargeRequest("pm_card_chargeDeclined")
      let declinedFirst = try await stripe.charge(declined)
      #expect(try await stripe.charge(declined) == declinedFirst)
      #expect(try await sim.charges().count == 2)

      // The same key with other parameters is our bug, not a reason to retry.
      var other = request
      other.amountCents = 100
      do throws(PaymentError) {
        _ = try await stripe.charge(other)
        Issue.record("a reused key with another amount was accepted")
      } catch {
        #expect(!error.isTransient && "\(error)".contains("idempotency_error"), "\(error)")
      }
      #expect(try await sim.charges().count == 2)
    }
  }

  /// The case idempotency exists for: Stripe charged, the answer was lost; the retry with the same
  /// key gets the charge it made, at once, and nothing is charged twice.
  @Test func aChargeWhoseAnswerWasLostIsNotRepeated() async throws {
    try await withPaymentsSim { sim, http in
      let hurried = StripeGateway(baseURL: sim.base, secretKey: sim.stripeKey, http: http, timeout: .milliseconds(500))
      let request = chargeRequest("pm_card_timeoutAfterCharge")
      do throws(PaymentError) {
        _ = try await hurried.charge(request)
        Issue.record("a held answer arrived within the timeout")
      } catch {
        #expect(error.isTransient, "\(error)")
      }
      try await sim.waitForCharges(1)
      let started = ContinuousClock.now
      guard case .succeeded(let id) = try await hurried.charge(request) else {
        Issue.record("the retry did not answer the charge")
        return
      }
      // The stored answer, not another held one.
      #expect(ContinuousClock.now - started < .seconds(5))
      let mine = try await sim.charges().filter { $0.idempotency_key == request.idempotencyKey }
      #expect(mine.count == 1)
      #expect(mine.first?.payment_id == id && mine.first?.outcome == "succeeded")
    }
  }

  /// Stripe forgets keys (after 24 h; here the simulator after 300 ms), and the same key then
  /// charges again: why a retry that late looks the charge up by its metadata instead.
  @Test func aForgottenKeyChargesAgainSoTheChargeIsLookedUpByItsMetadata() async throws {
    try await withPaymentsSim { sim, http in
      try await sim.configure(["idempotency_window_ms": 300])
      let stripe = StripeGateway(baseURL: sim.base, secretKey: sim.stripeKey, http: http)
      let request = chargeRequest("pm_card_visa")
      guard case .succeeded(let first) = try await stripe.charge(request) else {
        Issue.record("pm_card_visa did not succeed")
        return
      }
      #expect(try await stripe.lookUp(request) == .succeeded(paymentID: first))
      #expect(try await stripe.lookUp(chargeRequest("pm_card_visa")) == nil, "a key never used finds nothing")
      try await Task.sleep(for: .milliseconds(400))
      let second = try await stripe.charge(request)
      #expect(second != .succeeded(paymentID: first))
      #expect(try await sim.charges().count == 2, "the pruned key charged again")
      let declined = chargeRequest("pm_card_chargeDeclinedInsufficientFunds")
      _ = try await stripe.charge(declined)
      let found = try await stripe.lookUp(declined)
      #expect(found?.isDeclined(code: "insufficient_funds", hard: false) == true, "\(String(describing: found))")
    }
  }

  /// Stripe stores a 500 under the key and replays it: the adapter calls that uncertain (not a
  /// plain transient to retry as is), and the look-up finds the charge the 500 hid.
  @Test func aStoredServerErrorIsUncertainAndTheLookUpFindsTheCharge() async throws {
    try await withPaymentsSim { sim, http in
      let stripe = StripeGateway(baseURL: sim.base, secretKey: sim.stripeKey, http: http)
      let request = chargeRequest("pm_card_errorAfterCharge")
      for _ in 0..<2 {
        do throws(PaymentError) {
          _ = try await stripe.charge(request)
          Issue.record("a stored 500 answered an outcome")
        } catch {
          guard case .uncertain = error else {
            Issue.record("not uncertain: \(error)")
            continue
          }
          #expect(error.isTransient && !"\(error)".contains(sim.stripeKey))
        }
      }
      let log = try await sim.charges()
      #expect(log.count == 1 && log.first?.outcome == "succeeded", "the replay charged nothing more")
      #expect(try await stripe.lookUp(request) == .succeeded(paymentID: log.first?.payment_id ?? "?"))
    }
  }

  /// Two requests with one key at the same moment: Stripe answers the second 409, which is
  /// transient; the first charges. Whichever reaches the simulator first claims the key and holds
  /// it for the 8 s latency, so the two only need to arrive within 8 s of each other, however
  /// loaded the machine.
  @Test func aConcurrentDuplicateIsTransient() async throws {
    try await withPaymentsSim { sim, http in
      try await sim.configure(["latency_ms": 8000])
      let stripe = StripeGateway(baseURL: sim.base, secretKey: sim.stripeKey, http: http)
      let request = chargeRequest("pm_card_visa")
      async let first = Result(catching: { () async throws(PaymentError) in try await stripe.charge(request) })
      try await Task.sleep(for: .milliseconds(500))
      let second = await Result(catching: { () async throws(PaymentError) in try await stripe.charge(request) })
      let results = [await first, second]
      #expect(results.filter { (try? $0.get())?.isSucceeded == true }.count == 1, "\(results)")
      #expect(results.contains { if case .failure(let error) = $0 { error.isTransient } else { false } }, "\(results)")
      #expect(try await sim.charges().count == 1)
    }
  }

  @Test func aWrongKeyIsRejectedWithoutShowingIt() async throws {
    try await withPaymentsSim { sim, http in
      let wrongKey = "sk_test_wrong_\(UUID().uuidString)"
      let stripe = StripeGateway(baseURL: sim.base, secretKey: wrongKey, http: http)
      do throws(PaymentError) {
        _ = try await stripe.charge(chargeRequest("pm_card_visa"))
        Issue.record("a wrong key charged")
      } catch {
        #expect(!error.isTransient && "\(error)".contains("401"), "\(error)")
        #expect(!"\(error)".contains(wrongKey) && !"\(error)".contains("Bearer"))
      }
      // Unreachable: transient, and still no key.
      let closed = try ClosedPort()
      defer { closed.close() }
      let down = StripeGateway(baseURL: "http://127.0.0.1:\(closed.port)", secretKey: wrongKey, http: http)
      do throws(PaymentError) {
        _ = try await down.charge(chargeRequest("pm_card_visa"))
        Issue.record("a closed port answered")
      } catch {
        #expect(error.isTransient && !"\(error)".contains(wrongKey), "\(error)")
      }
      #expect(try await sim.charges().isEmpty)
      #expect(!sim.child.output.contains(sim.stripeKey) && !sim.child.output.contains(wrongKey))
    }
  }
}

extension ChargeOutcome {
  var isSucceeded: Bool { if case .succeeded = self { true } else { false } }

  func isDeclined(code expected: String?, hard expectedHard: Bool) -> Bool {
    if case .declined(_, let code, _, let hard) = self { code == expected && hard == expectedHard } else { false }
  }
}

extension Result where Failure == PaymentError {
  init(catching body: () async throws(PaymentError) -> Success) async {
    do { self = .success(try await body()) } catch { self = .failure(error) }
  }
}
