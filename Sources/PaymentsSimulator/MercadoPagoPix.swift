import Foundation
import Hummingbird
import Payments
import Wire

/// PIX through Mercado Pago's `POST /v1/payments` (`payment_method_id: pix`, `payer.email`): a
/// pending payment (`pending_waiting_transfer`) with its code in
/// `point_of_interaction.transaction_data` (`qr_code`, `qr_code_base64`, `ticket_url`) and
/// `date_of_expiration`. A boleto (`payment_method_id: bolbradesco`, the payer's name, CPF and
/// address required) is pending (`pending_waiting_payment`) with its slip in
/// `transaction_details.external_resource_url` and `barcode.content`. Tests play the buyer and the clock:
/// `POST /_sim/mercadopago/payments/{id}/pay` approves it (logged as the charge) and
/// `POST /_sim/mercadopago/payments/{id}/expire` cancels it (`status_detail: expired`). Any approved
/// payment (PIX or card) can then be `…/refund`ed (`refunded`) or `…/chargeback`ed (`charged_back`).
/// Each change is announced by a signed `payment` notification, as Mercado Pago does.
struct MercadoPagoPix {
  let book: MercadoPagoBook
  let log: ChargeLog
  let notifier: MercadoPagoNotifier

  func register(on router: Router<some RequestContext>) {
    router.post("_sim/mercadopago/payments/:id/pay") { _, context in
      try settle(context.parameters.get("id") ?? "", paid: true).response()
    }
    router.post("_sim/mercadopago/payments/:id/expire") { _, context in
      try settle(context.parameters.get("id") ?? "", paid: false).response()
    }
    router.post("_sim/mercadopago/payments/:id/refund") { _, context in
      try reverse(context.parameters.get("id") ?? "", to: "refunded", detail: "refunded").response()
    }
    router.post("_sim/mercadopago/payments/:id/chargeback") { _, context in
      try reverse(context.parameters.get("id") ?? "", to: "charged_back", detail: "settled").response()
    }
  }

  static func create(key: String, amount: Double, body: JSONValue, flow: ChargeFlow, book: MercadoPagoBook)
    async throws -> GatewayReply
  {
    guard let email = body["payer"]?["email"]?.string, email.contains("@") else {
      throw MercadoPagoErrors.badRequest("payer.email is required for pix")
    }
    return try await pending(
      key: key, amount: amount, body: body, flow: flow, book: book, detail: "pending_waiting_transfer",
      method: ("pix", "bank_transfer"), lifetime: 86_400, payer: email
    ) { id in
      let code = "00020126580014br.gov.bcb.pix0136sim-\(id)520400005303986540\(String(format: "%.2f", amount))6304SIM"
      return [
        "point_of_interaction": [
          "type": "PIX",
          "transaction_data": [
            "qr_code": .string(code), "qr_code_base64": .string(Data(code.utf8).base64EncodedString()),
            "ticket_url": .string("https://www.mercadopago.com.br/payments/\(id)/ticket"),
          ],
        ]
      ]
    }
  }

  /// A payment the buyer completes later, made once per key and logged as pending: `fields` adds
  /// what its method shows the buyer (the PIX code, the boleto's slip).
  static func pending(
    key: String, amount: Double, body: JSONValue, flow: ChargeFlow, book: MercadoPagoBook, detail: String,
    method: (id: String, type: String), lifetime: TimeInterval, payer: String,
    fields extra: (Int64) -> [String: JSONValue]
  ) async throws -> GatewayReply {
    try await flow.run(
      .mercadopago, key: key, fingerprint: "", compareParameters: false, errors: MercadoPagoErrors.keys
    ) {
      let id = book.nextPaymentID()
      var payment = MercadoPagoRoutes.payment(
        id: id, status: "pending", statusDetail: detail, amount: amount, body: body)
      if case .object(var fields) = payment {
        fields["payment_method_id"] = .string(method.id)
        fields["payment_type_id"] = .string(method.type)
        fields["date_of_expiration"] =
          body["date_of_expiration"] ?? .string(Date().addingTimeInterval(lifetime).ISO8601Format())
        fields.merge(extra(id)) { _, new in new }
        payment = .object(fields)
      }
      book.store(payment: payment, id: id)
      return .init(
        reply: GatewayReply(code: 201, body: payment),
        record: ChargeRecord(
          gateway: "mercadopago", customer: payer, amount: Int((amount * 100).rounded()), idempotency_key: key,
          outcome: "pending", payment_id: String(id), reference: body["external_reference"]?.string,
          description: body["description"]?.string, time: nowMilliseconds()))
    }
  }

  static func createBoleto(key: String, amount: Double, body: JSONValue, flow: ChargeFlow, book: MercadoPagoBook)
    async throws -> GatewayReply
  {
    let payer = body["payer"]
    var missing: [String] = []
    for field in ["email", "first_name", "last_name"] where (payer?[field]?.string ?? "").isEmpty {
      missing.append("payer.\(field)")
    }
    let cpf = payer?["identification"]?["number"]?.string ?? ""
    if cpf.count != 11 || !cpf.allSatisfy(\.isNumber) { missing.append("payer.identification.number (a CPF)") }
    for field in ["zip_code", "street_name", "street_number", "neighborhood", "city", "federal_unit"]
    where (payer?["address"]?[field]?.string ?? "").isEmpty {
      missing.append("payer.address.\(field)")
    }
    guard missing.isEmpty else {
      throw MercadoPagoErrors.badRequest("a boleto needs \(missing.joined(separator: ", "))")
    }
    return try await pending(
      key: key, amount: amount, body: body, flow: flow, book: book, detail: "pending_waiting_payment",
      method: ("bolbradesco", "ticket"), lifetime: 3 * 86_400, payer: payer?["email"]?.string ?? ""
    ) { id in
      [
        "transaction_details": [
          "external_resource_url": .string("https://www.mercadopago.com.br/payments/\(id)/ticket?caller_id=sim")
        ],
        "barcode": ["content": .string("2379\(String(format: "%040lld", id))")],
      ]
    }
  }

  /// The buyer pays the code or the slip, or it expires; a payment already settled is refused (409).
  private func settle(_ idText: String, paid: Bool) throws -> GatewayReply {
    guard let id = Int64(idText), case .object(var fields)? = book.payment(id),
      ["pix", "bolbradesco"].contains(fields["payment_method_id"]?.string ?? "")
    else { throw ControlRoutes.invalidOne("no PIX or boleto payment \(idText)") }
    guard fields["status"]?.string == "pending" else {
      throw GatewayReply(
        code: 409, body: ["error": .string("payment \(id) is \(fields["status"]?.string ?? "settled") already")])
    }
    let now = Date().ISO8601Format()
    fields["status"] = .string(paid ? "approved" : "cancelled")
    fields["status_detail"] = .string(paid ? "accredited" : "expired")
    fields["date_approved"] = paid ? .string(now) : .null
    fields["date_last_updated"] = .string(now)
    book.store(payment: .object(fields), id: id)
    if paid {
      log.append(
        ChargeRecord(
          gateway: "mercadopago", customer: fields["payer"]?["email"]?.string ?? "",
          amount: Int(((fields["transaction_amount"]?.number ?? 0) * 100).rounded()), idempotency_key: nil,
          outcome: "succeeded", payment_id: String(id), reference: fields["external_reference"]?.string,
          description: fields["description"]?.string, time: nowMilliseconds()))
    }
    notifier.announce(dataID: String(id), type: "payment", action: "payment.updated")
    return GatewayReply(code: 200, body: .object(fields))
  }

  /// An approved payment refunded by the seller or charged back by the buyer's bank.
  private func reverse(_ idText: String, to status: String, detail: String) throws -> GatewayReply {
    guard let id = Int64(idText), case .object(var fields)? = book.payment(id) else {
      throw ControlRoutes.invalidOne("no payment \(idText)")
    }
    guard fields["status"]?.string == "approved" else {
      throw GatewayReply(
        code: 409,
        body: ["error": .string("payment \(id) is \(fields["status"]?.string ?? "not approved"), not approved")])
    }
    fields["status"] = .string(status)
    fields["status_detail"] = .string(detail)
    fields["date_last_updated"] = .string(Date().ISO8601Format())
    book.store(payment: .object(fields), id: id)
    notifier.announce(dataID: String(id), type: "payment", action: "payment.updated")
    return GatewayReply(code: 200, body: .object(fields))
  }
}
