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
/// is the code to pay and its expiry, by boleto (`payment_method: "boleto"`, `payer` with CPF and
/// address) the slip, and the credits arrive with Mercado Pago's notification that it was paid. The client's `Idempotency-Key` answers the purchase it first made, never a second.
struct CreditPurchaseRoutes {
  let store: Store
  let broker: Broker
  let catalog: JobCatalog
  let limits: EnqueuerServer.Limits

  static let fields: Set<String> = ["pack", "gateway", "payment_method", "customer", "payer_email", "payer"]
  static let payerFields: Set<String> = ["email", "first_name", "last_name", "cpf", "address"]
  static let addressFields: Set<String> = [
    "zip_code", "street_name", "street_number", "neighborhood", "city", "federal_unit",
  ]
  /// How long a boleto stays payable.
  static let boletoLifetime: TimeInterval = 3 * 86_400
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
      check: Self.emailProblem)
    let pix = method == "pix"
    let boleto = method == "boleto"
    if pix || boleto, let gateway, gateway != .mercadopago {
      body.fail("payment_method", "PIX and boleto are paid through mercadopago only")
    }
    let payer = boleto ? Self.boletoPayer(body) : nil
    if !boleto, body.has("payer") {
      body.fail("payer", "only for a boleto (payment_method \"boleto\")")
    }
    if pix, email == nil, !body.has("payer_email") {
      body.fail("payer_email", "missing: the payer's e-mail, which Mercado Pago requires for PIX")
    }
    if !pix, body.has("payer_email") {
      body.fail("payer_email", "only for PIX (payment_method \"pix\")")
    }
    try body.finish()
    guard let pack, let gateway, !boleto || payer != nil else { throw Problem.invalid(body.problems) }

    var card: (customer: String, method: String)?
    if !pix && !boleto {
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
          tenantID: access.tenant.id, pack: pack, gateway: gateway.rawValue,
          method: pix ? .pix : boleto ? .boleto : .card, customer: card?.customer ?? payer?.email ?? email ?? "",
          paymentMethod: card?.method, requestKey: requestKey))
    } catch let error as CreditPurchaseError {
      throw Problem.invalid([.init(pointer: "/pack", detail: "\(error)")])
    }
    var purchase = created.0
    // The purchase's own method, not the body's: a repeated key answers the purchase it first made.
    switch purchase.method {
    case .pix:
      purchase = try await pixCode(purchase, tenantID: access.tenant.id)
    case .boleto:
      if let payer { purchase = try await boletoSlip(purchase, payer: payer, tenantID: access.tenant.id) }
    case .card where purchase.status == .pending:
      // Asked again while it is charged: the same job key, so nothing is added.
      _ = try await broker.enqueue(
        try CreditPurchaseJob.spec(purchaseID: purchase.id, tenant: access.tenant.name, catalog: catalog))
    case .card:
      break
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
    guard let pending = try await store.pendingPayerRequest(purchaseID: purchase.id) else { return purchase }
    let api = try Self.mercadoPago(limits)
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
      try await refused(error, purchase: purchase, what: "PIX code")
    }
    try await store.recordPixCode(
      purchaseID: purchase.id, gatewayPaymentID: code.paymentID, qrCode: code.qrCode, qrCodeBase64: code.qrCodeBase64,
      expiresAt: code.expiresAt)
    return try await store.creditPurchase(id: purchase.id, tenantID: tenantID) ?? purchase
  }

  /// The payer of a boleto, each field checked where it is (`/payer/cpf`, `/payer/address/city`).
  static func boletoPayer(_ body: RequestReader) -> BoletoPayer? {
    guard let payer = body.object("payer", fields: payerFields, noun: "a boleto's payer") else {
      if !body.has("payer") {
        body.fail("payer", "missing: the payer's email, first_name, last_name, cpf and address, for the boleto")
      }
      return nil
    }
    let email = payer.string(
      "email", max: 254, expected: "the payer's e-mail",
      check: Self.emailProblem)
    let first = payer.string("first_name", max: 100)
    let last = payer.string("last_name", max: 100)
    let cpf = payer.string(
      "cpf", max: 11, expected: "the payer's CPF, 11 digits",
      check: { CPF.isValid($0) ? nil : "must be a valid CPF: 11 digits with its two check digits" })
    let address = payer.object("address", fields: addressFields, noun: "the payer's address")
    if address == nil, !payer.has("address") { payer.fail("address", "missing: the payer's address") }
    let zip = address?.string(
      "zip_code", max: 8, expected: "the CEP, 8 digits",
      check: { $0.count == 8 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) ? nil : "must be 8 digits" })
    let street = address?.string("street_name", max: 200)
    let number = address?.string("street_number", max: 20)
    let neighborhood = address?.string("neighborhood", max: 100)
    let city = address?.string("city", max: 100)
    let state = address?.string(
      "federal_unit", max: 2, expected: "the state, two letters such as SP",
      check: { $0.count == 2 && $0.allSatisfy { $0.isASCII && $0.isUppercase } ? nil : "must be two capital letters" })
    guard let email, let first, let last, let cpf, let zip, let street, let number, let neighborhood, let city,
      let state
    else { return nil }
    return BoletoPayer(
      email: email, firstName: first, lastName: last, cpf: cpf,
      address: .init(
        zipCode: zip, streetName: street, streetNumber: number, neighborhood: neighborhood, city: city,
        federalUnit: state))
  }

  /// Asks Mercado Pago to register the purchase's boleto, under the purchase's own key.
  func boletoSlip(_ purchase: CreditPurchase, payer: BoletoPayer, tenantID: TenantID) async throws -> CreditPurchase {
    guard let pending = try await store.pendingPayerRequest(purchaseID: purchase.id) else { return purchase }
    let api = try Self.mercadoPago(limits)
    let expiresAt = try await limits.clock.now(on: broker).addingTimeInterval(Self.boletoLifetime)
    let slip: BoletoSlip
    do {
      slip = try await api.createBoleto(
        amountCents: pending.amountCents, payer: payer, description: "WHAGO credit pack \(pending.pack)",
        reference: "purchase-\(pending.purchaseID)", idempotencyKey: pending.idempotencyKey, expiresAt: expiresAt)
    } catch {
      try await refused(error, purchase: purchase, what: "boleto")
    }
    try await store.recordBoleto(
      purchaseID: purchase.id, gatewayPaymentID: slip.paymentID, url: slip.url, barcode: slip.barcode,
      expiresAt: slip.expiresAt)
    return try await store.creditPurchase(id: purchase.id, tenantID: tenantID) ?? purchase
  }

  /// What is wrong with an e-mail address, as openapi.yaml's pattern has it: one `@` between two
  /// non-empty parts.
  static func emailProblem(_ email: String) -> String? {
    let parts = email.split(separator: "@", omittingEmptySubsequences: false)
    return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty ? nil : "must be an e-mail address"
  }

  static func mercadoPago(_ limits: EnqueuerServer.Limits) throws -> MercadoPagoGateway {
    guard let api = limits.gatewayWebhooks.mercadoPagoAPI else {
      throw Problem(
        .serviceUnavailable, "gateway-not-configured", "Mercado Pago is not configured here",
        detail: "set WHAGO_MERCADOPAGO_ACCESS_TOKEN (and WHAGO_MERCADOPAGO_API_URL for a simulator) on whago serve")
    }
    return api
  }

  /// A refusal fails the purchase (422); anything else leaves it pending for the same request again (503).
  func refused(_ error: PaymentError, purchase: CreditPurchase, what: String) async throws -> Never {
    if case .rejected = error {
      _ = try await store.settleCreditPurchase(purchaseID: purchase.id, result: .error("\(error)"))
      throw Problem(
        .unprocessableContent, "payment-refused", "Mercado Pago refused the \(what)", detail: "\(error)")
    }
    throw Problem(
      .serviceUnavailable, "gateway-unavailable", "Mercado Pago could not make the \(what) now",
      detail: "\(error); repeat the request with the same Idempotency-Key (purchase \(purchase.id))")
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
