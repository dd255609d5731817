import BillingStore
import CampaignStore
import Foundation
import HTTPTypes
import Hummingbird
import JobContracts
import Logging
import NIOCore
import Payments
import Store

/// What `whago serve` needs to trust the payment gateways' webhooks. A gateway without it has its
/// webhooks refused: never accepted unsigned (WHAGO's old receiver did that).
public struct GatewayWebhookConfig: Sendable {
  /// `whsec_…`: Stripe-Signature is HMAC-SHA256 of `t.body` under it (WHAGO_STRIPE_WEBHOOK_SECRET).
  public var stripeSecret: String?
  /// Mercado Pago's x-signature secret (WHAGO_MERCADOPAGO_WEBHOOK_SECRET).
  public var mercadoPagoSecret: String?
  /// Asks Mercado Pago about the payment a notification names (WHAGO_MERCADOPAGO_API_URL and
  /// WHAGO_MERCADOPAGO_ACCESS_TOKEN); without it notifications are recorded but not applied.
  public var mercadoPagoAPI: MercadoPagoGateway?
  /// PayPal verifies its own signatures (`verify-webhook-signature`).
  public var payPal: PayPalWebhookVerifier?
  public init() {}
}

/// `POST /v1/webhooks/stripe|mercadopago|paypal`: each verified by its gateway's own scheme
/// before anything changes (a missing, wrong or stale signature answers 401 and changes nothing),
/// then recorded once per event id. A charge outcome reported by a webhook settles the invoice's
/// pending payment, as when a charge timed out after the gateway made it; a subscription the
/// gateway bills and has ended (Mercado Pago `subscription_preapproval` read as paused or
/// cancelled, PayPal BILLING.SUBSCRIPTION.CANCELLED|SUSPENDED|EXPIRED) is cancelled at its period's end;
/// a credit pack's Mercado Pago payment (`purchase-<id>`) paid grants its credits once, expired ends it,
/// refunded or charged back (there, or Stripe's charge.refunded and charge.dispute.created) takes
/// its unspent credits away.
struct GatewayWebhookRoutes {
  let store: Store
  let config: GatewayWebhookConfig
  /// A payment that lifts a suspension resumes the campaigns it paused: their senders start here,
  /// or within a minute by `campaigns.sweep` if this server dies first.
  let launcher: CampaignLauncher
  let payPalChecks = PayPalChecks()
  static let maxBody = 1 << 20

  func register(on router: Router<EnqueuerContext>) {
    router.post("v1/webhooks/stripe") { request, _ in try await stripe(request) }
    router.post("v1/webhooks/mercadopago") { request, _ in try await mercadoPago(request) }
    router.post("v1/webhooks/paypal") { request, _ in try await payPal(request) }
  }

  func stripe(_ request: Request) async throws -> Response {
    let body = try await Self.body(request)
    guard let secret = config.stripeSecret, !secret.isEmpty else {
      throw Self.notConfigured("Stripe", "WHAGO_STRIPE_WEBHOOK_SECRET")
    }
    guard
      StripeSignature.verify(
        header: request.headers[HTTPField.Name("Stripe-Signature")!], body: body, secret: secret, now: Date())
    else { throw Self.badSignature("Stripe-Signature (HMAC-SHA256 of t.body, within 300 s)") }
    guard let event = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let id = event["id"] as? String
    else { throw Problem.badJSON("a Stripe event is a JSON object with an id") }
    let type = event["type"] as? String
    let delivery = GatewayDelivery(source: "stripe", eventID: id, type: type)
    let object = (event["data"] as? [String: Any])?["object"] as? [String: Any] ?? [:]
    let metadata = object["metadata"] as? [String: Any]
    let invoice = (metadata?["invoice"] as? String).flatMap { Int64($0) }
    let attemptKey = metadata?["idempotency_key"] as? String
    let intent = object["id"] as? String
    if type == "charge.refunded" || type == "charge.dispute.created",
      let paymentIntent = object["payment_intent"] as? String
    {
      // A credit pack refunded in full, or disputed: its unspent credits go. A partial refund is
      // recorded for an operator; an invoice's payment is only recorded.
      guard type == "charge.dispute.created" || object["refunded"] as? Bool == true else {
        Logger(label: "whago.webhooks").warning(
          "partial Stripe refund recorded; credits unchanged", metadata: ["payment_intent": "\(paymentIntent)"])
        return Self.ok(try await store.recordGatewayDelivery(delivery).rawValue)
      }
      return try await answer(
        store.reverseCreditPurchase(
          gateway: "stripe", gatewayPaymentID: paymentIntent,
          as: type == "charge.refunded" ? .refunded : .chargedBack, delivery: delivery))
    }
    if let reference = metadata?["purchase"] as? String, reference.hasPrefix("purchase-"),
      let purchase = Int64(reference.dropFirst("purchase-".count)), let intent,
      type == "payment_intent.succeeded" || type == "payment_intent.payment_failed"
    {
      // A credit pack's card charge whose answer the job may have lost.
      let error = object["last_payment_error"] as? [String: Any]
      return try await answer(
        store.settleCreditPurchasePayment(
          purchaseID: purchase, gatewayPaymentID: intent,
          status: type == "payment_intent.succeeded" ? "approved" : "rejected",
          detail: error?["decline_code"] as? String ?? error?["code"] as? String, delivery: delivery))
    }
    let result: ChargeResult
    switch (type, invoice) {
    case ("payment_intent.succeeded", .some):
      result = .succeeded(paymentID: intent ?? "")
    case ("payment_intent.payment_failed", .some):
      let error = object["last_payment_error"] as? [String: Any]
      let code = error?["decline_code"] as? String ?? error?["code"] as? String
      result =
        error?["code"] as? String == "authentication_required"
        ? .requiresAction(paymentID: intent)
        : .declined(
          paymentID: intent, code: code, advice: error?["advice_code"] as? String,
          hard: error?["advice_code"] as? String == "do_not_try_again")
    default:
      return Self.ok(try await store.recordGatewayDelivery(delivery).rawValue)
    }
    return try await answer(
      store.reconcileCharge(
        invoiceID: invoice!, attemptKey: attemptKey, gatewayPaymentID: intent, result: result, now: Date(),
        delivery: delivery))
  }

  func mercadoPago(_ request: Request) async throws -> Response {
    let body = try await Self.body(request)
    guard let secret = config.mercadoPagoSecret, !secret.isEmpty else {
      throw Self.notConfigured("Mercado Pago", "WHAGO_MERCADOPAGO_WEBHOOK_SECRET")
    }
    let query = request.uri.queryParameters
    let dataID = query.get("data.id")
    let requestID = request.headers[HTTPField.Name("x-request-id")!]
    guard
      MercadoPagoSignature.verify(
        xSignature: request.headers[HTTPField.Name("x-signature")!], xRequestID: requestID, dataID: dataID,
        secret: secret, now: Date())
    else { throw Self.badSignature("x-signature (HMAC-SHA256 of the id/request-id/ts manifest, within 300 s)") }
    let event = (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:]
    let eventID = requestID ?? (event["id"] as? String) ?? "\(event["id"] ?? dataID ?? "")"
    guard !eventID.isEmpty else { throw Problem.badJSON("a Mercado Pago notification names its payment") }
    let type = event["type"] as? String ?? query.get("type")
    let delivery = GatewayDelivery(source: "mercadopago", eventID: eventID, type: type)
    // Recorded with its effect below, in one transaction; this look only saves asking Mercado Pago again.
    if try await store.alreadyDelivered(delivery) { return Self.ok("duplicate") }
    if type == "subscription_preapproval", let dataID, let api = config.mercadoPagoAPI {
      // A subscription paused or cancelled at Mercado Pago; its status is read there, not trusted
      // from the notification.
      let status: GatewaySubscriptionStatus
      do {
        status = try await api.preapprovalStatus(id: dataID)
      } catch {
        throw Problem(
          .serviceUnavailable, "gateway-unavailable", "Mercado Pago could not be asked about the subscription",
          detail: "\(error); Mercado Pago delivers the notification again")
      }
      guard case .ended(let word) = status else {
        return Self.ok(try await store.recordGatewayDelivery(delivery).rawValue)
      }
      return Self.ok(
        try await store.endGatewaySubscription(
          gateway: "mercadopago", gatewaySubscriptionID: dataID, status: word, delivery: delivery
        ).rawValue)
    }
    guard type == "payment", let dataID, let api = config.mercadoPagoAPI else {
      return Self.ok(try await store.recordGatewayDelivery(delivery).rawValue)
    }
    let payment: MercadoPagoPayment
    do {
      payment = try await api.payment(id: dataID)
    } catch {
      throw Problem(
        .serviceUnavailable, "gateway-unavailable", "Mercado Pago could not be asked about the payment",
        detail: "\(error); Mercado Pago delivers the notification again")
    }
    if let reference = payment.externalReference, reference.hasPrefix("purchase-"),
      let purchase = Int64(reference.dropFirst("purchase-".count))
    {
      // A credit pack: a PIX code paid or expired, or a card charge whose answer was lost.
      return try await answer(
        store.settleCreditPurchasePayment(
          purchaseID: purchase, gatewayPaymentID: payment.id, status: payment.status, detail: payment.statusDetail,
          delivery: delivery))
    }
    guard payment.status == "approved" || payment.status == "rejected" else {
      return Self.ok(try await store.recordGatewayDelivery(delivery).rawValue)
    }
    let approved = payment.status == "approved"
    if let reference = payment.externalReference, reference.hasPrefix("invoice-"),
      let invoice = Int64(reference.dropFirst("invoice-".count))
    {
      // A charge of ours whose answer may have been lost.
      return try await answer(
        store.reconcileCharge(
          invoiceID: invoice, attemptKey: payment.attemptKey, gatewayPaymentID: payment.id,
          result: approved
            ? .succeeded(paymentID: payment.id)
            : .declined(paymentID: payment.id, code: payment.statusDetail, advice: nil, hard: false), now: Date(),
          delivery: delivery))
    }
    guard let preapproval = payment.preapprovalID ?? payment.externalReference else {
      return Self.ok(try await store.recordGatewayDelivery(delivery).rawValue)
    }
    return try await answer(
      store.recordGatewaySubscriptionPayment(
        gateway: "mercadopago", gatewaySubscriptionID: preapproval, paymentID: payment.id, approved: approved,
        declineCode: payment.statusDetail, now: Date(), delivery: delivery))
  }

  func payPal(_ request: Request) async throws -> Response {
    let body = try await Self.body(request)
    guard let verifier = config.payPal else {
      throw Self.notConfigured("PayPal", "WHAGO_PAYPAL_WEBHOOK_ID with WHAGO_PAYPAL_CLIENT_ID and _SECRET")
    }
    var headers: [String: String] = [:]
    for field in request.headers { headers[field.name.canonicalName] = field.value }
    // Each check that reaches PayPal is an outbound call anyone can cause: only so many at once.
    guard payPalChecks.enter() else {
      throw Problem(
        .serviceUnavailable, "verification-busy", "Too many PayPal verifications at once",
        detail: "\(PayPalChecks.limit) deliveries are being checked with PayPal; PayPal will deliver this one again",
        retryAfter: 1)
    }
    defer { payPalChecks.leave() }
    let verified: Bool
    do {
      verified = try await verifier.verify(headers: headers, body: body)
    } catch {
      throw Problem(
        .serviceUnavailable, "verification-unavailable", "PayPal could not verify the webhook now",
        detail: "PayPal's verify-webhook-signature did not answer (\(error)); PayPal will deliver it again")
    }
    guard verified else { throw Self.badSignature("PAYPAL-TRANSMISSION-SIG (checked by PayPal)") }
    guard let event = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let id = event["id"] as? String
    else { throw Problem.badJSON("a PayPal event is a JSON object with an id") }
    let type = event["event_type"] as? String
    let delivery = GatewayDelivery(source: "paypal", eventID: id, type: type)
    // PayPal subscriptions bill themselves; their payments arrive as events about the subscription.
    let resource = event["resource"] as? [String: Any] ?? [:]
    if let type,
      ["BILLING.SUBSCRIPTION.CANCELLED", "BILLING.SUBSCRIPTION.SUSPENDED", "BILLING.SUBSCRIPTION.EXPIRED"]
        .contains(type), let subscription = resource["id"] as? String
    {
      let status = resource["status"] as? String ?? String(type.dropFirst("BILLING.SUBSCRIPTION.".count))
      return Self.ok(
        try await store.endGatewaySubscription(
          gateway: "paypal", gatewaySubscriptionID: subscription, status: status, delivery: delivery
        ).rawValue)
    }
    let outcome: (subscription: String, payment: String, approved: Bool)? =
      switch type {
      case "PAYMENT.SALE.COMPLETED":
        (resource["billing_agreement_id"] as? String).map { ($0, resource["id"] as? String ?? id, true) }
      case "BILLING.SUBSCRIPTION.PAYMENT.FAILED":
        (resource["id"] as? String).map { ($0, id, false) }
      default: nil
      }
    guard let outcome else { return Self.ok(try await store.recordGatewayDelivery(delivery).rawValue) }
    return try await answer(
      store.recordGatewaySubscriptionPayment(
        gateway: "paypal", gatewaySubscriptionID: outcome.subscription, paymentID: outcome.payment,
        approved: outcome.approved, declineCode: outcome.approved ? nil : "payment_failed", now: Date(),
        delivery: delivery))
  }

  /// The answer to an outcome that was applied, once the campaigns it may have resumed are launched.
  /// The effect is committed already: a failure to launch is logged, not answered 503, since the
  /// redelivery would be a duplicate; the sweep launches them.
  func answer(_ effect: DeliveryEffect) async throws -> Response {
    if !effect.resumed.isEmpty {
      do {
        try await launcher.launch(effect.resumed.map(\.launch))
      } catch {
        Logger(label: "whago.webhooks").warning(
          "resumed campaigns not launched now; campaigns.sweep will", metadata: ["error": "\(error)"])
      }
    }
    return Self.ok(effect.outcome.rawValue)
  }

  static func body(_ request: Request) async throws -> Data {
    do {
      return Data(try await request.body.collect(upTo: maxBody).readableBytesView)
    } catch is NIOTooManyBytesError {
      throw Problem(
        .contentTooLarge, "body-too-large", "The body is too large", detail: "webhooks are limited to 1 MiB")
    }
  }

  static func notConfigured(_ gateway: String, _ variable: String) -> Problem {
    Problem(
      .unauthorized, "webhook-not-configured", "\(gateway) webhooks are not accepted here",
      detail: "this server has no \(gateway) webhook secret (\(variable)); unverified webhooks are refused")
  }

  static func badSignature(_ scheme: String) -> Problem {
    Problem(
      .unauthorized, "bad-signature", "The webhook's signature does not verify",
      detail: "missing, wrong or stale \(scheme); nothing was changed")
  }

  static func ok(_ outcome: String) -> Response {
    Response(
      status: .ok, headers: [.contentType: "application/json"],
      body: .init(byteBuffer: ByteBuffer(string: #"{"result":"\#(outcome)"}"#)))
  }
}
