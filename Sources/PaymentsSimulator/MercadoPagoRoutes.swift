import Foundation
import Hummingbird
import Payments
import Wire

/// `POST /v1/payments` and `GET /v1/payments/{id}`, answered in Mercado Pago's shapes: 201 with
/// the payment (approved, rejected with its status_detail, in_process or pending), 400 without
/// `X-Idempotency-Key` (mandatory on Payments) or with an invalid body, 401 for a wrong token.
/// A repeated key answers the payment it made, whatever the body. `GET /v1/payments/search` finds
/// a reference's payments.
struct MercadoPagoRoutes {
  let accessToken: String
  let flow: ChargeFlow
  let book: MercadoPagoBook

  func register(on router: Router<some RequestContext>) {
    router.post("v1/payments") { request, _ in try await createPayment(request).response() }
    // Searches by external_reference (the only filter the simulator knows), newest first.
    router.get("v1/payments/search") { request, _ in
      guard constantTimeEqual(Incoming.bearer(request), accessToken) else { throw MercadoPagoErrors.unauthorized }
      try await flow.pause()
      guard let reference = request.uri.queryParameters.get("external_reference"), !reference.isEmpty else {
        throw MercadoPagoErrors.badRequest("the simulator searches payments by external_reference only")
      }
      let found = book.payments(reference: reference)
      let limit = request.uri.queryParameters.get("limit").flatMap { Int($0) } ?? 30
      return GatewayReply(
        code: 200,
        body: [
          "paging": ["total": .int(Int64(found.count)), "limit": .int(Int64(limit)), "offset": 0],
          "results": .array(Array(found.prefix(max(1, min(limit, 1000))))),
        ]
      ).response()
    }
    router.get("v1/payments/:id") { request, context in
      guard constantTimeEqual(Incoming.bearer(request), accessToken) else { throw MercadoPagoErrors.unauthorized }
      try await flow.pause()
      guard let id = context.parameters.get("id").flatMap({ Int64($0) }), let payment = book.payment(id) else {
        throw MercadoPagoErrors.error(404, "not_found", "Payment not found")
      }
      return GatewayReply(code: 200, body: payment).response()
    }
  }

  private func createPayment(_ request: Request) async throws -> GatewayReply {
    guard constantTimeEqual(Incoming.bearer(request), accessToken) else { throw MercadoPagoErrors.unauthorized }
    guard let key = Incoming.header(request, "X-Idempotency-Key"), !key.isEmpty else {
      throw MercadoPagoErrors.badRequest("Header X-Idempotency-Key can't be null")
    }
    let body = try await Incoming.object(request, invalid: MercadoPagoErrors.badRequest)
    guard let amount = body["transaction_amount"]?.number, amount > 0 else {
      throw MercadoPagoErrors.badRequest("transaction_amount attribute can't be null and must be positive")
    }
    if body["payment_method_id"]?.string == "pix" {
      return try await MercadoPagoPix.create(key: key, amount: amount, body: body, flow: flow, book: book)
    }
    if body["payment_method_id"]?.string == "bolbradesco" {
      return try await MercadoPagoPix.createBoleto(key: key, amount: amount, body: body, flow: flow, book: book)
    }
    guard let token = body["token"]?.string, !token.isEmpty else {
      throw MercadoPagoErrors.badRequest("token attribute can't be null (a card token of the saved card)")
    }
    guard let payer = body["payer"], payer["id"]?.string != nil || payer["email"]?.string != nil else {
      throw MercadoPagoErrors.badRequest("payer.id (with payer.type customer) or payer.email is required")
    }
    return try await flow.run(
      .mercadopago, key: key, fingerprint: "", compareParameters: false, errors: MercadoPagoErrors.keys
    ) {
      let scenario = MercadoPagoCards.scenario(token)
      let id = book.nextPaymentID()
      let cents = Int((amount * 100).rounded())
      let customer = payer["id"]?.string ?? payer["email"]?.string ?? ""
      let payment = Self.payment(
        id: id, status: scenario.status, statusDetail: scenario.statusDetail, amount: amount, body: body)
      book.store(payment: payment, id: id)
      return .init(
        reply: GatewayReply(code: 201, body: payment),
        record: ChargeRecord(
          gateway: "mercadopago", customer: customer, amount: cents, idempotency_key: key,
          outcome: MercadoPagoCards.outcome(status: scenario.status, statusDetail: scenario.statusDetail),
          payment_id: String(id), reference: body["external_reference"]?.string,
          description: body["description"]?.string, time: nowMilliseconds()),
        hold: scenario.hold)
    }
  }

  /// A payment as Mercado Pago describes it (the fields a receiver and our client read).
  static func payment(id: Int64, status: String, statusDetail: String, amount: Double, body: JSONValue) -> JSONValue {
    let now = Date().ISO8601Format()
    return [
      "id": .int(id), "status": .string(status), "status_detail": .string(statusDetail),
      "date_created": .string(now), "date_approved": status == "approved" ? .string(now) : .null,
      "transaction_amount": .double(amount), "currency_id": body["currency_id"] ?? "BRL",
      "description": body["description"] ?? .null, "payment_method_id": body["payment_method_id"] ?? "master",
      "payment_type_id": "credit_card", "installments": body["installments"] ?? .int(1),
      "external_reference": body["external_reference"] ?? .null, "metadata": body["metadata"] ?? [:],
      "payer": body["payer"] ?? .null, "captured": .bool(status == "approved"), "live_mode": false,
    ]
  }
}
