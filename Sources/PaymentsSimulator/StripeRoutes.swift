import Foundation
import Hummingbird
import Payments
import Wire

/// `POST /v1/payment_intents` (form-encoded, confirmed off-session), answered in Stripe's shapes:
/// 200 with the PaymentIntent, 402 card_error for a decline or required authentication, 400 for
/// missing parameters or a key reused with other parameters, 401 for a wrong secret key, 409 while
/// a request with the same key is in flight. `GET /v1/payment_intents/search?query=metadata['k']:'v'`
/// finds the intents made, whatever became of their keys.
struct StripeRoutes {
  let secretKey: String
  let flow: ChargeFlow
  let intents: StripeIntents

  func register(on router: Router<some RequestContext>) {
    router.post("v1/payment_intents") { request, _ in try await createPaymentIntent(request).response() }
    router.get("v1/payment_intents/search") { request, _ in try await search(request).response() }
  }

  private func search(_ request: Request) async throws -> GatewayReply {
    guard constantTimeEqual(Incoming.bearer(request), secretKey) else {
      throw Self.error(401, type: "invalid_request_error", message: "Invalid API Key provided.")
    }
    try await flow.pause()
    guard let query = request.uri.queryParameters.get("query"),
      let (field, value) = StripeIntents.metadataClause(query)
    else {
      throw Self.error(
        400, type: "invalid_request_error", code: "parameter_invalid",
        message: "The simulator searches by one clause, metadata['field']:'value'.", extra: ["param": "query"])
    }
    let limit = request.uri.queryParameters.get("limit").flatMap { Int($0) } ?? 10
    let found = intents.matching(metadata: field, value: value)
    return GatewayReply(
      code: 200,
      body: [
        "object": "search_result", "url": "/v1/payment_intents/search", "has_more": .bool(found.count > limit),
        "data": .array(Array(found.prefix(max(1, min(limit, 100))))),
      ])
  }

  private func createPaymentIntent(_ request: Request) async throws -> GatewayReply {
    guard constantTimeEqual(Incoming.bearer(request), secretKey) else {
      throw Self.error(401, type: "invalid_request_error", message: "Invalid API Key provided.")
    }
    let form = FormBody.parse(try await Incoming.bytes(request))
    for name in ["amount", "currency", "payment_method"] where (form[name] ?? "").isEmpty {
      throw Self.error(
        400, type: "invalid_request_error", code: "parameter_missing", message: "Missing required param: \(name).",
        extra: ["param": .string(name)])
    }
    guard let amount = Int(form["amount"] ?? ""), amount > 0 else {
      throw Self.error(
        400, type: "invalid_request_error", code: "parameter_invalid_integer",
        message: "This value must be greater than or equal to 1.", extra: ["param": "amount"])
    }
    guard form["confirm"] == "true" else {
      throw Self.error(
        400, type: "invalid_request_error",
        message: "The simulator only makes confirmed charges: send confirm=true (and off_session=true).")
    }
    let key = Incoming.header(request, "Idempotency-Key")
    if let key, key.utf8.count > 255 {
      throw Self.error(400, type: "invalid_request_error", message: "Idempotency-Key is longer than 255 characters.")
    }
    // The parameters, in a stable order, so the same request always fingerprints the same.
    let fingerprint = form.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
    return try await flow.run(
      .stripe, key: key, fingerprint: fingerprint, compareParameters: true,
      errors: .init(
        mismatch: { key in
          Self.error(
            400, type: "idempotency_error",
            message:
              "Keys for idempotent requests can only be used with the same parameters they were first used with. "
              + "Try using a key other than '\(key)' if you meant to execute a different request.")
        },
        inProgress: { key in
          Self.error(
            409, type: "invalid_request_error", code: "idempotency_key_in_use",
            message:
              "There is currently another in-progress request using this Idempotency Key (that probably means you "
              + "submitted twice, and the other request is still going through): \(key). Please try again later.")
        })
    ) { charge(form, amount: amount, key: key) }
  }

  private func charge(_ form: [String: String], amount: Int, key: String?) -> ChargeFlow.Charged {
    let id = "pi_" + SimID.alphanumeric(24)
    let paymentMethod = form["payment_method"] ?? ""
    let customer = form["customer"] ?? ""
    let scenario = StripeCards.scenario(paymentMethod)
    let succeeded = scenario == .succeed || scenario == .succeedThenHold || scenario == .succeedThenServerError
    var intent: [String: JSONValue] = [
      "id": .string(id), "object": "payment_intent", "amount": .int(Int64(amount)),
      "amount_received": .int(Int64(succeeded ? amount : 0)), "currency": .string(form["currency"] ?? ""),
      "customer": customer.isEmpty ? .null : .string(customer), "payment_method": .string(paymentMethod),
      "description": form["description"].map { .string($0) } ?? .null,
      "metadata": .object(
        form.filter { $0.key.hasPrefix("metadata[") && $0.key.hasSuffix("]") }.reduce(into: [:]) {
          $0[String($1.key.dropFirst("metadata[".count).dropLast())] = .string($1.value)
        }),
      "confirmation_method": "automatic", "capture_method": "automatic", "livemode": false,
      "created": .int(Int64(nowMilliseconds() / 1000)),
      "status": succeeded ? "succeeded" : "requires_payment_method",
      "latest_charge": .string("ch_" + SimID.alphanumeric(24)),
    ]
    let reply: GatewayReply
    let outcome: String
    switch scenario {
    case .succeed, .succeedThenHold:
      reply = GatewayReply(code: 200, body: .object(intent))
      outcome = "succeeded"
    case .succeedThenServerError:
      reply = Self.error(500, type: "api_error", message: "An unknown error occurred")
      outcome = "succeeded"
    case .decline(let code, let advice):
      let error: [String: JSONValue] = [
        "type": "card_error", "code": "card_declined", "decline_code": .string(code), "advice_code": .string(advice),
        "message": "Your card was declined.", "charge": intent["latest_charge"] ?? .null,
      ]
      intent["last_payment_error"] = .object(error)
      reply = Self.cardError(error, intent: intent)
      outcome = "declined"
    case .authenticationRequired:
      let error: [String: JSONValue] = [
        "type": "card_error", "code": "authentication_required", "decline_code": "authentication_required",
        "message": "Your card was declined. This transaction requires authentication.",
      ]
      intent["last_payment_error"] = .object(error)
      reply = Self.cardError(error, intent: intent)
      outcome = "requires_action"
    }
    intents.store(.object(intent))
    return .init(
      reply: reply,
      record: ChargeRecord(
        gateway: "stripe", customer: customer, amount: amount, idempotency_key: key, outcome: outcome,
        payment_id: id, reference: form["metadata[invoice]"] ?? form["metadata[purchase]"],
        description: form["description"],
        time: nowMilliseconds()),
      hold: scenario == .succeedThenHold)
  }

  /// A 402 carries the PaymentIntent, so the client learns its id even when the card said no.
  private static func cardError(_ error: [String: JSONValue], intent: [String: JSONValue]) -> GatewayReply {
    var error = error
    error["payment_intent"] = .object(intent)
    error["payment_method"] = ["id": intent["payment_method"] ?? .null, "object": "payment_method"]
    return GatewayReply(code: 402, body: ["error": .object(error)])
  }

  /// `{"error": {"type", "code", "message", ...}}`, Stripe's error envelope.
  static func error(
    _ code: Int, type: String, code errorCode: String? = nil, message: String, extra: [String: JSONValue] = [:]
  ) -> GatewayReply {
    var error = extra
    error["type"] = .string(type)
    error["message"] = .string(message)
    if let errorCode { error["code"] = .string(errorCode) }
    return GatewayReply(code: code, body: ["error": .object(error)])
  }
}
