import Foundation
import Hummingbird
import Payments
import Wire

/// Mercado Pago subscriptions, kept small: `POST /preapproval` creates one, authorized at once,
/// `GET /preapproval/{id}` reads it, `PUT /preapproval/{id} {status}` pauses or cancels it (and
/// announces it, `type=subscription_preapproval`), and
/// `POST /_sim/mercadopago/preapproval/{id}/charge {"outcome":"approved"|"rejected"}` plays Mercado
/// Pago charging it by itself. That charge is logged, stored as a payment (external_reference = the
/// preapproval id) for `GET /v1/payments/{id}`, and, when the simulator has a webhook URL and a
/// Mercado Pago webhook secret, announced as Mercado Pago does: `POST <url>?data.id=<id>&type=payment`
/// with `x-signature: ts=<ms>,v1=<hex>` over `id:<id>;request-id:<x-request-id>;ts:<ms>;` and
/// body `{"action":"payment.created","type":"payment","data":{"id":"<id>"},…}`.
struct MercadoPagoPreapproval {
  let accessToken: String
  let book: MercadoPagoBook
  let log: ChargeLog
  let flow: ChargeFlow
  let notifier: MercadoPagoNotifier

  func register(on router: Router<some RequestContext>) {
    router.post("preapproval") { request, _ in try await create(request).response() }
    router.get("preapproval/:id") { request, context in
      try await show(context.parameters.get("id") ?? "", request).response()
    }
    router.put("preapproval/:id") { request, context in
      try await update(context.parameters.get("id") ?? "", request).response()
    }
    router.post("_sim/mercadopago/preapproval/:id/charge") { request, context in
      try await charge(context.parameters.get("id") ?? "", request).response()
    }
  }

  private func create(_ request: Request) async throws -> GatewayReply {
    guard constantTimeEqual(Incoming.bearer(request), accessToken) else { throw MercadoPagoErrors.unauthorized }
    let body = try await Incoming.object(request, invalid: MercadoPagoErrors.badRequest)
    guard let recurring = body["auto_recurring"], let amount = recurring["transaction_amount"]?.number, amount > 0
    else {
      throw MercadoPagoErrors.badRequest("auto_recurring.transaction_amount is required and must be positive")
    }
    try await flow.pause()
    let id = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    let now = Date().ISO8601Format()
    let json: JSONValue = [
      "id": .string(id), "status": "authorized", "reason": body["reason"] ?? .null,
      "external_reference": body["external_reference"] ?? .null, "payer_email": body["payer_email"] ?? .null,
      "auto_recurring": recurring, "date_created": .string(now), "last_modified": .string(now),
      "init_point": .string("https://www.mercadopago.com.br/subscriptions/checkout?preapproval_id=\(id)"),
    ]
    book.store(
      .init(
        id: id, payerEmail: body["payer_email"]?.string ?? "", amountCents: Int((amount * 100).rounded()), json: json))
    return GatewayReply(code: 201, body: json)
  }

  /// `GET /preapproval/{id}`.
  private func show(_ id: String, _ request: Request) async throws -> GatewayReply {
    guard constantTimeEqual(Incoming.bearer(request), accessToken) else { throw MercadoPagoErrors.unauthorized }
    guard let preapproval = book.preapproval(id) else { throw Self.notFound(id) }
    return GatewayReply(code: 200, body: preapproval.json)
  }

  /// `PUT /preapproval/{id} {"status": "paused"|"cancelled"|"authorized"}`: the customer (or the
  /// seller) pauses, cancels or reactivates it, and Mercado Pago announces the change with a
  /// `subscription_preapproval` notification, signed as payments' are.
  private func update(_ id: String, _ request: Request) async throws -> GatewayReply {
    guard constantTimeEqual(Incoming.bearer(request), accessToken) else { throw MercadoPagoErrors.unauthorized }
    let body = try await Incoming.object(request, invalid: MercadoPagoErrors.badRequest)
    guard var preapproval = book.preapproval(id) else { throw Self.notFound(id) }
    guard let status = body["status"]?.string, ["authorized", "paused", "cancelled"].contains(status) else {
      throw MercadoPagoErrors.badRequest("status must be authorized, paused or cancelled")
    }
    if case .object(var fields) = preapproval.json {
      fields["status"] = .string(status)
      fields["last_modified"] = .string(Date().ISO8601Format())
      preapproval.json = .object(fields)
    }
    book.store(preapproval)
    notifier.announce(dataID: id, type: "subscription_preapproval", action: "updated")
    return GatewayReply(code: 200, body: preapproval.json)
  }

  static func notFound(_ id: String) -> GatewayReply {
    MercadoPagoErrors.error(404, "not_found", "The preapproval with id \(id) does not exist")
  }

  private func charge(_ id: String, _ request: Request) async throws -> GatewayReply {
    let body = try await Incoming.object(request, invalid: ControlRoutes.invalidOne)
    guard let preapproval = book.preapproval(id) else { throw ControlRoutes.invalidOne("no preapproval \(id)") }
    let approved: Bool
    switch body["outcome"]?.string {
    case "approved": approved = true
    case "rejected": approved = false
    default: throw ControlRoutes.invalidOne("outcome must be \"approved\" or \"rejected\"")
    }
    let paymentID = book.nextPaymentID()
    let status = approved ? "approved" : "rejected"
    let detail = approved ? "accredited" : "cc_rejected_insufficient_amount"
    let payment = MercadoPagoRoutes.payment(
      id: paymentID, status: status, statusDetail: detail, amount: Double(preapproval.amountCents) / 100,
      body: [
        "description": preapproval.json["reason"] ?? .null, "external_reference": .string(preapproval.id),
        "metadata": ["preapproval_id": .string(preapproval.id)], "payer": ["email": .string(preapproval.payerEmail)],
      ])
    book.store(payment: payment, id: paymentID)
    log.append(
      ChargeRecord(
        gateway: "mercadopago", customer: preapproval.payerEmail, amount: preapproval.amountCents,
        idempotency_key: nil, outcome: approved ? "succeeded" : "declined", payment_id: String(paymentID),
        reference: preapproval.id, description: preapproval.json["reason"]?.string, time: nowMilliseconds()))
    notifier.announce(dataID: String(paymentID), type: "payment", action: "payment.created")
    return GatewayReply(code: 201, body: payment)
  }
}
