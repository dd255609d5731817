import OutboundHTTP

/// Stripe, through `POST /v1/payment_intents` confirmed off-session on a saved payment method:
/// the renewal flow Stripe documents for charging a customer who is not present.
public struct StripeGateway: PaymentGateway {
  public var gateway: Gateway { .stripe }
  private let secretKey: String
  private let transport: GatewayTransport

  public init(baseURL: String, secretKey: String, http: HTTPClient, timeout: Duration = .seconds(30)) {
    self.secretKey = secretKey
    transport = GatewayTransport(
      gateway: .stripe, baseURL: baseURL, http: http, timeout: timeout, secrets: [secretKey],
      storesServerErrors: true)
  }

  public func charge(_ request: ChargeRequest) async throws(PaymentError) -> ChargeOutcome {
    try request.validate()
    let form = FormEncoding.encode(
      [
        ("amount", String(request.amountCents)),
        ("currency", request.currency.lowercased()),
        ("customer", request.customer),
        ("payment_method", request.paymentMethod),
        ("off_session", "true"),
        ("confirm", "true"),
        // Names the attempt, so a late webhook settles this attempt and no later one.
        ("metadata[idempotency_key]", request.idempotencyKey),
        ("description", request.description),
      ]
        + (request.isInvoice
          ? [("metadata[invoice]", String(request.invoiceID))] : [("metadata[purchase]", request.reference)]))
    let outbound = transport.request(
      "POST", "/v1/payment_intents",
      headers: [
        ("Authorization", "Bearer \(secretKey)"), ("Idempotency-Key", request.idempotencyKey),
        ("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json"),
      ], body: Array(form.utf8))
    let response = try await transport.send(outbound)
    do {
      return try StripeAnswer.outcome(response, failure: { transport.failure(response, outbound, detail: $0) })
    } catch {
      throw transport.redacted(error)
    }
  }

  /// Searches PaymentIntents by the key we put in their metadata (Stripe's search, not its
  /// idempotency cache, which forgets keys after 24 h). Search can lag new writes by about a
  /// minute, so the billing job asks only well after the key's last use.
  public func lookUp(_ request: ChargeRequest) async throws(PaymentError) -> ChargeOutcome? {
    let query = "metadata['idempotency_key']:'\(request.idempotencyKey)'"
    let outbound = transport.request(
      "GET", "/v1/payment_intents/search?query=\(FormEncoding.escape(query))&limit=10",
      headers: [("Authorization", "Bearer \(secretKey)"), ("Accept", "application/json")], body: nil)
    let response = try await transport.send(outbound)
    guard (200..<300).contains(response.status) else {
      throw transport.failure(response, outbound, detail: "searching PaymentIntents of invoice \(request.invoiceID)")
    }
    guard let found = GatewayJSON.decode(StripeAnswer.SearchResult.self, response) else {
      throw .transient("Stripe answered the PaymentIntent search with an unexpected body")
    }
    return try StripeAnswer.outcome(of: found.data)
  }
}

/// Stripe's answers to a confirmed PaymentIntent, read into an outcome.
enum StripeAnswer {
  struct PaymentIntent: Decodable {
    struct LastError: Decodable {
      var code: String?
      var declineCode: String?
      var adviceCode: String?
    }
    var id: String
    var status: String?
    var lastPaymentError: LastError?
  }

  struct SearchResult: Decodable {
    var data: [PaymentIntent]
  }

  struct ErrorBody: Decodable {
    struct Detail: Decodable {
      var type: String?
      var code: String?
      var declineCode: String?
      var adviceCode: String?
      var message: String?
      var paymentIntent: PaymentIntent?
    }
    var error: Detail
  }

  /// What the PaymentIntents a search found say: a success wins (money was taken), then whatever
  /// the newest says; nil when none charged or tried to (canceled, never confirmed).
  static func outcome(of intents: [PaymentIntent]) throws(PaymentError) -> ChargeOutcome? {
    if let paid = intents.first(where: { $0.status == "succeeded" }) { return .succeeded(paymentID: paid.id) }
    for intent in intents {
      switch intent.status {
      case "processing": throw .uncertain("Stripe payment \(intent.id) is still processing")
      case "requires_action": return .requiresAction(paymentID: intent.id)
      case "requires_payment_method":
        guard let error = intent.lastPaymentError else { continue }
        if error.code == "authentication_required" { return .requiresAction(paymentID: intent.id) }
        let code = error.declineCode ?? error.code
        let hard = code.map { hardDeclines.contains($0) } == true || error.adviceCode == "do_not_try_again"
        return .declined(paymentID: intent.id, code: code, advice: error.adviceCode, hard: hard)
      default: continue
      }
    }
    return nil
  }

  /// Decline codes after which no retry can succeed: the card is gone or the issuer suspects fraud.
  static let hardDeclines: Set = ["lost_card", "stolen_card", "pickup_card", "fraudulent", "restricted_card"]

  static func outcome(
    _ response: OutboundResponse, failure: (String?) -> PaymentError
  ) throws(PaymentError) -> ChargeOutcome {
    if (200..<300).contains(response.status) {
      guard let intent = GatewayJSON.decode(PaymentIntent.self, response) else {
        throw failure("the answer is not a PaymentIntent")
      }
      switch intent.status {
      case "succeeded": return .succeeded(paymentID: intent.id)
      case "requires_action": return .requiresAction(paymentID: intent.id)
      case "processing":
        // The card network has not answered yet, and the same key would replay "processing":
        // the retry looks the PaymentIntent up instead.
        throw .uncertain("Stripe payment \(intent.id) is still processing")
      default:
        throw failure("PaymentIntent \(intent.id) is \(intent.status ?? "without a status")")
      }
    }
    let error = GatewayJSON.decode(ErrorBody.self, response)?.error
    let detail = error.map { [$0.type, $0.code, $0.message].compactMap { $0 }.joined(separator: ": ") }
    guard response.status == 402, let error, error.type == "card_error" else { throw failure(detail) }
    let paymentID = error.paymentIntent?.id
    if error.code == "authentication_required" { return .requiresAction(paymentID: paymentID) }
    let code = error.declineCode ?? error.code
    let hard = code.map { hardDeclines.contains($0) } == true || error.adviceCode == "do_not_try_again"
    return .declined(paymentID: paymentID, code: code, advice: error.adviceCode, hard: hard)
  }
}
