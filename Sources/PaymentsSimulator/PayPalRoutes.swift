import Foundation
import Hummingbird
import Payments
import Wire

/// PayPal's `POST /v1/oauth2/token` (Basic client id and secret → a Bearer token),
/// `POST /v2/checkout/orders` (intent CAPTURE with a vaulted card: authorized and captured in the
/// create call; a repeated PayPal-Request-Id answers the first order again) and
/// `POST /v1/notifications/verify-webhook-signature`, in PayPal's shapes; plus
/// `POST /_sim/paypal/sign`, which answers the PAYPAL-* headers a real delivery of the posted
/// event would carry (see `PayPalSigner`).
struct PayPalRoutes {
  let clientID: String
  let clientSecret: String
  let tokens: PayPalTokens
  let signer: PayPalSigner
  let flow: ChargeFlow

  func register(on router: Router<some RequestContext>) {
    router.post("v1/oauth2/token") { request, _ in try await token(request).response() }
    router.post("v2/checkout/orders") { request, _ in try await createOrder(request).response() }
    router.post("v1/notifications/verify-webhook-signature") { request, _ in try await verify(request).response() }
    router.post("_sim/paypal/sign") { request, _ in
      let event = try await Incoming.object(request, invalid: ControlRoutes.invalidOne)
      return GatewayReply(code: 200, body: .object(signer.headers(for: event).mapValues { .string($0) })).response()
    }
  }

  private func token(_ request: Request) async throws -> GatewayReply {
    let expected = "Basic " + Data("\(clientID):\(clientSecret)".utf8).base64EncodedString()
    guard constantTimeEqual(request.headers[.authorization], expected) else {
      throw GatewayReply(
        code: 401, body: ["error": "invalid_client", "error_description": "Client Authentication failed"])
    }
    guard FormBody.parse(try await Incoming.bytes(request))["grant_type"] == "client_credentials" else {
      throw GatewayReply(
        code: 400, body: ["error": "unsupported_grant_type", "error_description": "Grant Type is NULL"])
    }
    try await flow.pause()
    return GatewayReply(
      code: 200,
      body: [
        "scope": "https://uri.paypal.com/services/payments/payment", "access_token": .string(tokens.issue()),
        "token_type": "Bearer", "app_id": "APP-SIM", "expires_in": .int(Int64(tokens.lifetime)),
        "nonce": .string(Date().ISO8601Format() + SimID.alphanumeric(12)),
      ])
  }

  private func createOrder(_ request: Request) async throws -> GatewayReply {
    guard tokens.isValid(Incoming.bearer(request)) else { throw Self.authenticationFailure }
    let body = try await Incoming.object(request) {
      Self.invalidRequest(field: "/", issue: "MALFORMED_REQUEST_JSON", $0)
    }
    guard body["intent"]?.string == "CAPTURE" else {
      throw Self.invalidRequest(field: "/intent", issue: "INVALID_PARAMETER_VALUE", "the simulator supports CAPTURE")
    }
    guard let unit = body["purchase_units"]?.array?.first, let amount = unit["amount"],
      let value = amount["value"]?.string, let cents = Self.cents(value), cents > 0,
      amount["currency_code"]?.string != nil
    else {
      throw Self.invalidRequest(
        field: "/purchase_units/0/amount", issue: "MISSING_REQUIRED_PARAMETER",
        "purchase_units[0].amount needs currency_code and a value like \"97.00\"")
    }
    guard let vaultID = body["payment_source"]?["card"]?["vault_id"]?.string, !vaultID.isEmpty else {
      throw Self.invalidRequest(
        field: "/payment_source/card/vault_id", issue: "MISSING_REQUIRED_PARAMETER",
        "the simulator charges vaulted cards: payment_source.card.vault_id")
    }
    return try await flow.run(
      .paypal, key: Incoming.header(request, "PayPal-Request-Id"), fingerprint: "", compareParameters: false,
      errors: .init(
        mismatch: { _ in Self.invalidRequest(field: "/", issue: "DUPLICATE_REQUEST_ID", "request id reused") },
        inProgress: { _ in
          GatewayReply(
            code: 409,
            body: ["name": "RESOURCE_CONFLICT", "message": "A request with this PayPal-Request-Id is in progress."])
        })
    ) {
      charge(unit: unit, cents: cents, vaultID: vaultID, key: Incoming.header(request, "PayPal-Request-Id"))
    }
  }

  private func charge(unit: JSONValue, cents: Int, vaultID: String, key: String?) -> ChargeFlow.Charged {
    let orderID = SimID.alphanumeric(17, uppercase: true)
    let captureID = SimID.alphanumeric(17, uppercase: true)
    let scenario = PayPalCards.scenario(vaultID)
    let now = Date().ISO8601Format()
    var order: [String: JSONValue] = [
      "id": .string(orderID), "intent": "CAPTURE", "create_time": .string(now), "update_time": .string(now),
      "payment_source": ["card": ["last_digits": "1111", "brand": "VISA", "type": "CREDIT"]],
      "links": [
        [
          "href": .string("https://api.sandbox.paypal.com/v2/checkout/orders/\(orderID)"), "rel": "self",
          "method": "GET",
        ]
      ],
    ]
    var captured = unit
    var capture: [String: JSONValue] = [
      "id": .string(captureID), "amount": unit["amount"] ?? .null, "final_capture": true, "create_time": .string(now),
    ]
    let reply: GatewayReply
    let outcome: String
    var paymentID: String? = captureID
    switch scenario {
    case .complete, .completeThenHold, .captureDeclined:
      if case .captureDeclined(let code) = scenario {
        capture["status"] = "DECLINED"
        capture["processor_response"] = ["response_code": .string(code), "avs_code": "Y", "cvv_code": "M"]
        outcome = "declined"
      } else {
        capture["status"] = "COMPLETED"
        outcome = "succeeded"
      }
      order["status"] = "COMPLETED"
      if case .object(var fields) = captured {
        fields["payments"] = ["captures": [.object(capture)]]
        captured = .object(fields)
      }
      order["purchase_units"] = [captured]
      reply = GatewayReply(code: 201, body: .object(order))
    case .payerActionRequired:
      order["status"] = "PAYER_ACTION_REQUIRED"
      order["purchase_units"] = [unit]
      order["links"] = [
        [
          "href": .string("https://www.sandbox.paypal.com/webapps/helios?action=verify&flow=3ds&cart_id=\(orderID)"),
          "rel": "payer-action", "method": "GET",
        ]
      ]
      paymentID = orderID
      outcome = "requires_action"
      reply = GatewayReply(code: 201, body: .object(order))
    case .instrumentDeclined:
      paymentID = nil
      outcome = "declined"
      reply = GatewayReply(
        code: 422,
        body: [
          "name": "UNPROCESSABLE_ENTITY",
          "details": [
            [
              "issue": "INSTRUMENT_DECLINED",
              "description":
                "The instrument presented was either declined by the processor or bank, or it can't be used for this payment.",
            ]
          ],
          "message":
            "The requested action could not be performed, semantically incorrect, or failed business validation.",
          "debug_id": .string(SimID.alphanumeric(13).lowercased()),
        ])
    }
    return .init(
      reply: reply,
      record: ChargeRecord(
        gateway: "paypal", customer: unit["custom_id"]?.string ?? "", amount: cents, idempotency_key: key,
        outcome: outcome, payment_id: paymentID, reference: unit["reference_id"]?.string,
        description: unit["description"]?.string, time: nowMilliseconds()),
      hold: scenario == .completeThenHold)
  }

  private func verify(_ request: Request) async throws -> GatewayReply {
    guard tokens.isValid(Incoming.bearer(request)) else { throw Self.authenticationFailure }
    let body = try await Incoming.object(request) {
      Self.invalidRequest(field: "/", issue: "MALFORMED_REQUEST_JSON", $0)
    }
    let names = ["auth_algo", "cert_url", "transmission_id", "transmission_sig", "transmission_time", "webhook_id"]
    var fields: [String: String] = [:]
    for name in names {
      guard let value = body[name]?.string, !value.isEmpty else {
        throw Self.invalidRequest(field: "/\(name)", issue: "MISSING_REQUIRED_PARAMETER", "\(name) is required")
      }
      fields[name] = value
    }
    guard let event = body["webhook_event"], case .object = event else {
      throw Self.invalidRequest(
        field: "/webhook_event", issue: "MISSING_REQUIRED_PARAMETER", "webhook_event is required")
    }
    try await flow.pause()
    let valid = signer.verify(
      transmissionID: fields["transmission_id"] ?? "", transmissionTime: fields["transmission_time"] ?? "",
      webhookID: fields["webhook_id"] ?? "", signature: fields["transmission_sig"] ?? "", event: event)
    return GatewayReply(code: 200, body: ["verification_status": valid ? "SUCCESS" : "FAILURE"])
  }

  /// "97.00" → 9700; nil unless a plain decimal with at most two places.
  static func cents(_ value: String) -> Int? {
    let parts = value.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count <= 2, let whole = Int(parts[0]), whole >= 0 else { return nil }
    guard parts.count == 2 else { return whole * 100 }
    guard (1...2).contains(parts[1].count), let fraction = Int(parts[1]), fraction >= 0 else { return nil }
    return whole * 100 + (parts[1].count == 1 ? fraction * 10 : fraction)
  }

  static let authenticationFailure = GatewayReply(
    code: 401,
    body: [
      "name": "AUTHENTICATION_FAILURE",
      "message": "Authentication failed due to invalid authentication credentials or a missing Authorization header.",
    ])

  static func invalidRequest(field: String, issue: String, _ description: String) -> GatewayReply {
    GatewayReply(
      code: 400,
      body: [
        "name": "INVALID_REQUEST",
        "message": "Request is not well-formed, syntactically incorrect, or violates schema.",
        "details": [
          ["field": .string(field), "location": "body", "issue": .string(issue), "description": .string(description)]
        ],
      ])
  }
}
