import Foundation
import OutboundHTTP

/// Mercado Pago, through `POST /v1/payments` with a card token of the customer's saved card
/// (Checkout API's saved-cards flow) and `payer.type = customer`.
///
/// `ChargeRequest.paymentMethod` is the card token, optionally prefixed by Mercado Pago's
/// `payment_method_id` and a colon (`master:ff8080…`): Mercado Pago wants the card brand with the
/// token, and the billing job keeps both in one field.
public struct MercadoPagoGateway: PaymentGateway {
  public var gateway: Gateway { .mercadopago }
  let accessToken: String
  let transport: GatewayTransport

  public init(baseURL: String, accessToken: String, http: HTTPClient, timeout: Duration = .seconds(30)) {
    self.accessToken = accessToken
    transport = GatewayTransport(
      gateway: .mercadopago, baseURL: baseURL, http: http, timeout: timeout, secrets: [accessToken])
  }

  public func charge(_ request: ChargeRequest) async throws(PaymentError) -> ChargeOutcome {
    try request.validate()
    let method = request.paymentMethod.split(separator: ":", maxSplits: 1).map(String.init)
    let body = MercadoPagoAnswer.PaymentBody(
      transactionAmount: Money.decimal(cents: request.amountCents), description: request.description,
      paymentMethodId: method.count == 2 ? method[0] : nil, token: method.last ?? request.paymentMethod,
      installments: 1, payer: .init(type: "customer", id: request.customer),
      externalReference: request.reference,
      // The key names the attempt, so a late webhook settles this attempt and no later one.
      metadata: request.isInvoice
        ? ["invoice_id": String(request.invoiceID), "idempotency_key": request.idempotencyKey]
        : ["idempotency_key": request.idempotencyKey])
    let outbound = transport.request(
      "POST", "/v1/payments",
      headers: [
        ("Authorization", "Bearer \(accessToken)"), ("X-Idempotency-Key", request.idempotencyKey),
        ("Content-Type", "application/json"), ("Accept", "application/json"),
      ], body: try GatewayJSON.encode(body))
    let response = try await transport.send(outbound)
    do {
      return try MercadoPagoAnswer.outcome(response, failure: { transport.failure(response, outbound, detail: $0) })
    } catch {
      throw transport.redacted(error)
    }
  }

  /// Searches the payments of the invoice (`external_reference`) for the one made under the key
  /// (our metadata), rather than trusting the key to be remembered.
  public func lookUp(_ request: ChargeRequest) async throws(PaymentError) -> ChargeOutcome? {
    let reference = FormEncoding.escape(request.reference)
    let outbound = transport.request(
      "GET", "/v1/payments/search?external_reference=\(reference)&sort=date_created&criteria=desc&limit=50",
      headers: [("Authorization", "Bearer \(accessToken)"), ("Accept", "application/json")], body: nil)
    let response = try await transport.send(outbound)
    guard (200..<300).contains(response.status) else {
      throw transport.failure(response, outbound, detail: "searching payments of \(request.reference)")
    }
    guard let found = GatewayJSON.decode(MercadoPagoAnswer.SearchResult.self, response) else {
      throw .transient("Mercado Pago answered the payment search with an unexpected body")
    }
    let mine = found.results.filter { $0.metadata?["idempotency_key"]?.text == request.idempotencyKey }
    if let paid = mine.first(where: { $0.status == "approved" }) { return .succeeded(paymentID: String(paid.id)) }
    guard let payment = mine.first(where: { $0.status != "cancelled" }) else { return nil }
    return try MercadoPagoAnswer.outcome(
      MercadoPagoAnswer.Payment(id: payment.id, status: payment.status, statusDetail: payment.statusDetail),
      failure: { .rejected("Mercado Pago payment \(payment.id): \($0 ?? "unexpected")") })
  }
}

/// Mercado Pago's payment shapes, and how a payment's status reads as an outcome.
enum MercadoPagoAnswer {
  struct PaymentBody: Encodable {
    struct Payer: Encodable {
      var type: String
      var id: String
    }
    var transactionAmount: Decimal
    var description: String
    var paymentMethodId: String?
    var token: String
    var installments: Int
    var payer: Payer
    var externalReference: String
    var metadata: [String: String]
  }

  struct Payment: Decodable {
    var id: Int64
    var status: String
    var statusDetail: String?
  }

  struct SearchResult: Decodable {
    struct Found: Decodable {
      var id: Int64
      var status: String
      var statusDetail: String?
      var metadata: [String: Lenient]?
    }
    var results: [Found]
  }

  /// A metadata value, which may be any JSON; only strings (and numbers, as text) matter here.
  struct Lenient: Decodable {
    var text: String?
    init(from decoder: any Decoder) throws {
      let c = try decoder.singleValueContainer()
      text = (try? c.decode(String.self)) ?? (try? c.decode(Double.self)).map { String($0) }
    }
  }

  struct ErrorBody: Decodable {
    var message: String?
    var error: String?
  }

  /// Rejections no retry can cure: the card is blocked, disabled or refused as too risky.
  static let hardDeclines: Set = ["cc_rejected_blacklist", "cc_rejected_card_disabled", "cc_rejected_high_risk"]

  static func outcome(
    _ response: OutboundResponse, failure: (String?) -> PaymentError
  ) throws(PaymentError) -> ChargeOutcome {
    guard (200..<300).contains(response.status) else {
      let error = GatewayJSON.decode(ErrorBody.self, response)
      throw failure(error.map { [$0.error, $0.message].compactMap { $0 }.joined(separator: ": ") })
    }
    guard let payment = GatewayJSON.decode(Payment.self, response) else {
      throw failure("the answer is not a payment")
    }
    return try outcome(payment, failure: failure)
  }

  static func outcome(_ payment: Payment, failure: (String?) -> PaymentError) throws(PaymentError) -> ChargeOutcome {
    let id = String(payment.id)
    switch payment.status {
    case "approved":
      return .succeeded(paymentID: id)
    case "rejected":
      let detail = payment.statusDetail
      return .declined(
        paymentID: id, code: detail, advice: nil, hard: detail.map { hardDeclines.contains($0) } == true)
    case "in_process", "pending":
      // 3-D Secure: the buyer must complete the challenge.
      if payment.statusDetail == "pending_challenge" { return .requiresAction(paymentID: id) }
      // Under review (pending_contingency, pending_review_manual): Mercado Pago decides within
      // hours and says so by webhook; the same key meanwhile answers this payment again.
      throw .transient("Mercado Pago payment \(id) is \(payment.status) (\(payment.statusDetail ?? "no detail"))")
    default:
      throw failure("payment \(id) is \(payment.status)")
    }
  }
}
