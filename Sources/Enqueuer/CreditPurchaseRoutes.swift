import BillingStore
import Foundation
import HTTPTypes
import Hummingbird
import JobCatalog
import JobContracts
import JobQueue
import Payments
import Store

/// `/v1/credits/purchases`: a tenant buys a credit pack. By card (`payment_method`, or the card of
/// its subscription at that gateway) the purchase is charged once by `credits.purchase` and the
/// answer is 202, pending; by PIX (Mercado Pago, `payment_method: "pix"`, `payer_email`) the answer
/// is the code to pay and its expiry, and the credits arrive with Mercado Pago's notification that
/// it was paid. The client's `Idempotency-Key` answers the purchase it first made, never a second.
struct CreditPurchaseRoutes {
  let store: Store
  let broker: Broker
  let catalog: JobCatalog
  let limits: EnqueuerServer.Limits

  static let fields: Set<String> = ["pack", "gateway", "payment_method", "customer", "payer_email"]
  /// How long a PIX code stays payable.
  static let pixLifetime: TimeInterval = 30 * 60

  enum GatewayName: String, CaseIterable {
    case stripe, mercadopago, paypal
  }

  func register(on group: RouterGroup<EnqueuerContext>) {
    group.post("credits/purchases") { request, context in try await create(request, context: context) }
    group.get("credits/purchases/:id") { _, context in try await show(context: context) }
  }

  func create(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let requestKey = request.headers[.idempotencyKey]
    if let requestKey, requestKey.isEmpty || requestKey.utf8.count > 255 {
      throw Problem.invalid([.init(pointer: "", detail: "Idempotency-Key must have 1 to 255 characters")])
    }
    let body = try await RequestReader.body(
      request, limit: limits.maxBody, fields: Self.fields, noun: "a credit pack purchase")
    let pack = body.string("pack", max: 32, expected: "a pack id such as 1k, 5k, 10k or 50k")
    let gateway = body.choice("gateway", required: true, as: GatewayName.self)
    let method = body.string("payment_method", required: false, max: 255)
    let customer = body.string("customer", required: false, max: 255)
    let email = body.string(
      "payer_email", required: false, max: 254, expected: "the payer's e-mail",
      check: { email in
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty ? nil : "must be an e-mail address"
      })
    let pix = method == "pix"
    if pix, let gateway, gateway != .mercadopago {
      body.fail("payment_method", "PIX is paid through mercadopago only")
    }
    if pix, email == nil, !body.has("payer_email") {
      body.fail("payer_email", "missing: the payer's e-mail, which Mercado Pago requires for PIX")
    }
    if !pix, body.has("payer_email") {
      body.fail("payer_email", "only for PIX (payment_method \"pix\")")
    }
    try body.finish()
    guard let pack, let gateway else { throw Problem.invalid(body.problems) }

    var card: (customer: String, method: String)?
    if !pix {
      // The subscription's card at the same gateway, unless the request names one.
      let subscription = try? await store.subscription(tenant: access.tenant.name).0
      let onFile = subscription?.gateway == gateway.rawValue ? subscription : nil
      guard let customer = customer ?? onFile?.gatewayCustomer, let method = method ?? onFile?.paymentMethod else {
        throw Problem.invalid([
          .init(
            pointer: customer == nil && onFile == nil ? "/customer" : "/payment_method",
            detail:
              "no card on file at \(gateway.rawValue) for this tenant: send customer and payment_method, or pay by PIX")
        ])
      }
      card = (customer, method)
    }
    let created: (CreditPurchase, created: Bool)
    do {
      created = try await store.createCreditPurchase(
        NewCreditPurchase(
          tenantID: access.tenant.id, pack: pack, gateway: gateway.rawValue, method: pix ? .pix : .card,
          customer: card?.customer ?? email ?? "", paymentMethod: card?.method, requestKey: requestKey))
    } catch let error as CreditPurchaseError {
      throw Problem.invalid([.init(pointer: "/pack", detail: "\(error)")])
    }
    var purchase = created.0
    if pix {
      purchase = try await pixCode(purchase, tenantID: access.tenant.id)
    } else if purchase.status == .pending {
      // Asked again while it is charged: the same job key, so nothing is added.
      _ = try await broker.enqueue(
        try CreditPurchaseJob.spec(purchaseID: purchase.id, tenant: access.tenant.name, catalog: catalog))
    }
    let status: HTTPResponse.Status =
      switch purchase.status {
      case .pending: .accepted
      default: created.created ? .created : .ok
      }
    return try JSONResponse.make(status, purchase)
  }

  /// Asks Mercado Pago for the purchase's PIX code, under the purchase's own key (a repeated
  /// request after a lost answer gets the same code back, not a second payment).
  func pixCode(_ purchase: CreditPurchase, tenantID: TenantID) async throws -> CreditPurchase {
    guard let pending = try await store.pendingPixRequest(purchaseID: purchase.id) else { return purchase }
    guard let api = limits.gatewayWebhooks.mercadoPagoAPI else {
      throw Problem(
        .serviceUnavailable, "gateway-not-configured", "Mercado Pago is not configured here",
        detail: "set WHAGO_MERCADOPAGO_ACCESS_TOKEN (and WHAGO_MERCADOPAGO_API_URL for a simulator) on whago serve")
    }
    let expiresAt = try await limits.clock.now(on: broker).addingTimeInterval(Self.pixLifetime)
    let code: PixCode
    do {
      code = try await api.createPix(
        PixRequest(
          amountCents: pending.amountCents, payerEmail: pending.payerEmail,
          description: "WHAGO credit pack \(pending.pack)", reference: "purchase-\(pending.purchaseID)",
          idempotencyKey: pending.idempotencyKey,
          expiresAt: expiresAt))
    } catch {
      if case .rejected = error {
        _ = try await store.settleCreditPurchase(purchaseID: purchase.id, result: .error("\(error)"))
        throw Problem(.unprocessableContent, "pix-refused", "Mercado Pago refused the PIX payment", detail: "\(error)")
      }
      throw Problem(
        .serviceUnavailable, "gateway-unavailable", "Mercado Pago could not make the PIX code now",
        detail: "\(error); repeat the request with the same Idempotency-Key (purchase \(purchase.id))")
    }
    try await store.recordPixCode(
      purchaseID: purchase.id, gatewayPaymentID: code.paymentID, qrCode: code.qrCode, qrCodeBase64: code.qrCodeBase64,
      expiresAt: code.expiresAt)
    return try await store.creditPurchase(id: purchase.id, tenantID: tenantID) ?? purchase
  }

  func show(context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    guard let id = context.parameters.get("id", as: Int64.self), id > 0 else {
      throw Problem.notFound("a credit purchase id is a positive whole number")
    }
    guard let purchase = try await store.creditPurchase(id: id, tenantID: access.tenant.id) else {
      throw Problem.notFound("no credit purchase \(id) for this tenant")
    }
    return try JSONResponse.make(.ok, purchase)
  }
}
