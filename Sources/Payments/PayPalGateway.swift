import OutboundHTTP

/// PayPal, through the Orders v2 API: `POST /v2/checkout/orders` with intent CAPTURE and the
/// customer's vaulted card (`payment_source.card.vault_id`). With a vaulted card and no buyer to
/// approve, PayPal authorizes and captures inside the create call, so one request is the charge.
public struct PayPalGateway: PaymentGateway {
  public var gateway: Gateway { .paypal }
  let accessToken: PayPalAccessToken
  let transport: GatewayTransport

  public init(
    baseURL: String, clientID: String, clientSecret: String, http: HTTPClient, timeout: Duration = .seconds(30)
  ) {
    accessToken = PayPalAccessToken(clientID: clientID, clientSecret: clientSecret)
    transport = GatewayTransport(
      gateway: .paypal, baseURL: baseURL, http: http, timeout: timeout,
      secrets: [clientSecret, accessToken.basicCredentials])
  }

  public func charge(_ request: ChargeRequest) async throws(PaymentError) -> ChargeOutcome {
    try request.validate()
    let body = try GatewayJSON.encode(
      PayPalAnswer.OrderBody(
        intent: "CAPTURE",
        purchaseUnits: [
          .init(
            referenceId: request.reference, customId: request.customer, description: request.description,
            amount: .init(
              currencyCode: request.currency.uppercased(), value: Money.decimalString(cents: request.amountCents)))
        ],
        paymentSource: .init(
          card: .init(
            vaultId: request.paymentMethod,
            // A merchant-initiated charge of a card on file, as card networks ask a renewal to say.
            storedCredential: .init(paymentInitiator: "MERCHANT", paymentType: "RECURRING", usage: "SUBSEQUENT")))))
    let (outbound, response) = try await transport.sendAuthorized(accessToken) { token in
      transport.request(
        "POST", "/v2/checkout/orders",
        headers: [
          ("Authorization", "Bearer \(token)"), ("PayPal-Request-Id", request.idempotencyKey),
          // The full order, captures included; the default minimal answer leaves them out.
          ("Prefer", "return=representation"), ("Content-Type", "application/json"), ("Accept", "application/json"),
        ], body: body)
    }
    do {
      return try PayPalAnswer.outcome(response, failure: { transport.failure(response, outbound, detail: $0) })
    } catch {
      throw transport.redacted(error)
    }
  }

  /// PayPal's Orders API finds an order only by its id, which a lost answer never told us, and
  /// has no search by our reference: rather than risk a second charge under a new request id, an
  /// operator looks the invoice up in PayPal (its `reference_id` is `invoice-<id>`).
  public func lookUp(_ request: ChargeRequest) async throws(PaymentError) -> ChargeOutcome? {
    throw .rejected(
      "PayPal cannot be asked whether invoice \(request.invoiceID) was charged under \(request.idempotencyKey) "
        + "(its request id may have expired): find the order with reference_id invoice-\(request.invoiceID) "
        + "in PayPal and settle the invoice by hand")
  }
}

/// PayPal's order shapes, and how an order and its capture read as an outcome.
enum PayPalAnswer {
  struct OrderBody: Encodable {
    struct Unit: Encodable {
      struct Amount: Encodable {
        var currencyCode: String
        var value: String
      }
      var referenceId: String
      var customId: String
      var description: String
      var amount: Amount
    }
    struct Source: Encodable {
      struct Card: Encodable {
        struct StoredCredential: Encodable {
          var paymentInitiator: String
          var paymentType: String
          var usage: String
        }
        var vaultId: String
        var storedCredential: StoredCredential
      }
      var card: Card
    }
    var intent: String
    var purchaseUnits: [Unit]
    var paymentSource: Source
  }

  struct Order: Decodable {
    struct Unit: Decodable {
      struct Payments: Decodable { var captures: [Capture]? }
      var payments: Payments?
    }
    struct Capture: Decodable {
      struct ProcessorResponse: Decodable {
        var responseCode: String?
        var paymentAdviceCode: String?
      }
      var id: String
      var status: String
      var processorResponse: ProcessorResponse?
    }
    var id: String
    var status: String
    var purchaseUnits: [Unit]?
  }

  struct ErrorBody: Decodable {
    struct Detail: Decodable {
      var issue: String?
      var description: String?
    }
    var name: String?
    var message: String?
    var details: [Detail]?
  }

  /// Processor response codes after which no retry can succeed: suspected fraud, lost or stolen card.
  static let hardDeclines: Set = ["9500", "9520"]
  /// Mastercard's merchant advice codes "do not try again" (03) and "stop recurring" (21).
  static let stopAdvice: Set = ["03", "21"]

  static func outcome(
    _ response: OutboundResponse, failure: (String?) -> PaymentError
  ) throws(PaymentError) -> ChargeOutcome {
    guard (200..<300).contains(response.status) else {
      let error = GatewayJSON.decode(ErrorBody.self, response)
      let issue = error?.details?.first?.issue
      if response.status == 422, issue == "INSTRUMENT_DECLINED" {
        return .declined(paymentID: nil, code: issue, advice: nil, hard: false)
      }
      if response.status == 422, issue == "PAYER_ACTION_REQUIRED" { return .requiresAction(paymentID: nil) }
      throw failure(error.map { [$0.name, issue, $0.message].compactMap { $0 }.joined(separator: ": ") })
    }
    guard let order = GatewayJSON.decode(Order.self, response) else { throw failure("the answer is not an order") }
    if order.status == "PAYER_ACTION_REQUIRED" { return .requiresAction(paymentID: order.id) }
    guard let capture = order.purchaseUnits?.first?.payments?.captures?.first else {
      throw failure("order \(order.id) is \(order.status) without a capture")
    }
    switch capture.status {
    case "COMPLETED":
      return .succeeded(paymentID: capture.id)
    case "DECLINED", "FAILED":
      let code = capture.processorResponse?.responseCode
      let advice = capture.processorResponse?.paymentAdviceCode
      let hard = code.map { hardDeclines.contains($0) } == true || advice.map { stopAdvice.contains($0) } == true
      return .declined(paymentID: capture.id, code: code ?? capture.status, advice: advice, hard: hard)
    case "PENDING":
      // Held for review by PayPal; it settles by itself and the same request id answers it again.
      throw .transient("PayPal capture \(capture.id) is PENDING")
    default:
      throw failure("capture \(capture.id) of order \(order.id) is \(capture.status)")
    }
  }
}
