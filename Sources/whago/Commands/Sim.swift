import ArgumentParser
import Foundation
import Logging
import PaymentsSimulator
import ServiceLifecycle
import UnixSignals
import WAHASimulator

/// Simulators of the services WHAGO talks to, for the demo and the tests.
struct Sim: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Simulate the services WHAGO talks to (WhatsApp through WAHA; Stripe, Mercado Pago, PayPal), for demos and tests.",
    subcommands: [SimWAHA.self, SimPayments.self, SimDocker.self])
}

struct SimWAHA: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "waha",
    abstract: "Simulate WAHA's REST API and webhooks: sessions, sends, acks, faults, and a log of accepted messages.",
    discussion: """
      WAHA's endpoints and JSON shapes (NOWEB engine): POST|GET /api/sessions, GET|PUT|DELETE \
      /api/sessions/{s}, GET /api/sessions/{s}/me, POST /api/sessions/{s}/start|stop|restart|logout, \
      GET /api/{s}/auth/qr, POST /api/{s}/auth/request-code, POST /api/sendText, \
      sendImage, sendFile, sendSeen, startTyping, stopTyping, GET /api/contacts/check-exists, \
      GET /api/{s}/chats/{chatId}/messages (accepted sends, newest first; limit, filter.fromMe, \
      filter.timestamp.gte in seconds). \
      Sends answer 201; 401 without the key; 400 for a bad body (chatId must be digits@c.us); \
      404 for an unknown session; 422 with WAHA's body when the session is not WORKING. \
      Session names: 1 to 54 letters, digits, '-' or '_'; config.proxy {server, username, password} \
      is kept and echoed.

      Linking a number: a started session is STARTING, then after --start-delay WORKING. With \
      --require-scan, a session never logged in goes to SCAN_QR_CODE instead (a session.status \
      webhook on every entry, each with a new QR) and waits to be scanned; once scanned it goes \
      straight to WORKING on later starts and restarts, until POST .../logout unlinks it (and stops it). \
      While SCAN_QR_CODE (else 422, expected SCAN_QR_CODE): GET /api/{s}/auth/qr answers a PNG, \
      {"mimetype":"image/png","data":"<base64>"} with Accept: application/json exactly, or \
      {"value"} with ?format=raw; POST /api/{s}/auth/request-code {"phoneNumber":"5511999999999"} \
      answers 201 {"code":"ABCD-EFGH"} (400 unless 8 to 15 digits) and remembers the number.

      check-exists rules: a number ending in 0000 is not on WhatsApp (numberExists false). \
      A Brazilian mobile with the ninth digit (55 + area + 9 + 8 digits, 13 digits) exists as given. \
      The same number without the ninth digit (12 digits) exists, and its chatId is the 13-digit one. \
      Any other number of 8 to 15 digits exists as given.

      Faults hit every /api request at the given rates (one roll: timeout, then 500, then 429); \
      a timeout holds the request --timeout-hold, then answers 500; --timeout-after-send-rate of the \
      timeouts carry the request out first (a send is logged and acked, only its answer is lost). \
      --drop-rate: after an accepted send the session falls to FAILED until restarted. Only accepted \
      (201) sends are logged.

      Webhooks (session.status; message.ack 1 SERVER, 2 DEVICE, 3 READ after --ack-delays; message) \
      go to a session's config.webhooks[] URLs, else to --webhook-url, in WAHA's envelope, signed \
      with X-Webhook-Hmac (hex HMAC-SHA512 of the body) under the webhook's hmac.key, else \
      --webhook-secret, when either is set; 3 tries each, the same event id on each.

      For tests (no key, no faults): GET|POST /_sim/config {latency_ms, fail_rate, timeout_rate, \
      timeout_after_send_rate, rate_limit_rate, drop_rate, timeout_hold_ms, start_delay_ms, \
      ack_delays_ms, require_scan}; GET|DELETE /_sim/messages (every accepted message: session, \
      chatId, text, id, time, media_url); GET /_sim/sessions (every session: name, status, config, me, \
      logged_in, phone, qr); POST /_sim/sessions/{s}/scan {"phone":"5511..."} (optional body) plays \
      the phone reading the QR or taking the code: WORKING, me.id the phone given (else the one from \
      request-code, else a made-up one) @c.us; 409 unless SCAN_QR_CODE; \
      POST /_sim/sessions/{s}/status {"status":"FAILED"}; POST /_sim/incoming \
      {"session","from","body"} sends a `message` webhook. GET /ping answers pong.
      """)

  @Option(help: "Address to bind. Env: WHAGO_HOST.")
  var host: String = ProcessInfo.processInfo.environment["WHAGO_HOST"] ?? "127.0.0.1"

  @Option(help: "Port to listen on (WAHA's own is 3000; 0: any free one, named in the log line 'listening on').")
  var port: Int = 3000

  @Option(help: "X-Api-Key every /api request must carry (none when unset). Env: WHAGO_SIM_API_KEY.")
  var apiKey: String?

  @Option(help: "Where webhooks go for sessions without their own. Env: WHAGO_SIM_WEBHOOK_URL.")
  var webhookURL: String?

  @Option(help: "HMAC key that signs webhooks (unless a session's webhook has its own). Env: WHAGO_SIM_WEBHOOK_SECRET.")
  var webhookSecret: String?

  @Option(help: "Added before every /api answer.")
  var latency: String = "20ms"

  @Option(help: "Fraction of /api requests answered 500 (engine failure).")
  var failRate: Double = 0

  @Option(help: "Fraction of /api requests held --timeout-hold, then answered 500.")
  var timeoutRate: Double = 0

  @Option(help: "Fraction of /api requests answered 429.")
  var rateLimitRate: Double = 0

  @Option(help: "Fraction of accepted sends after which the session falls to FAILED.")
  var dropRate: Double = 0

  @Option(help: "Fraction of timeouts that come after the request was carried out (sent, but the answer is lost).")
  var timeoutAfterSendRate: Double = 0.5

  @Option(help: "How long a simulated timeout holds the request.")
  var timeoutHold: String = "30s"

  @Option(help: "STARTING to WORKING (or to SCAN_QR_CODE with --require-scan).")
  var startDelay: String = "200ms"

  @Flag(help: "Sessions never logged in wait in SCAN_QR_CODE until scanned (POST /_sim/sessions/{s}/scan).")
  var requireScan = false

  @Option(help: "When message.ack SERVER, DEVICE and READ follow a send; 'none' sends no acks.")
  var ackDelays: String = "50ms,100ms,200ms"

  @Option(help: "Sessions that exist, WORKING, at startup (comma-separated; empty for none).")
  var sessions: String = "default"

  @Option(help: "Log level: trace, debug, info, notice, warning, error. Env: WHAGO_LOG_LEVEL.")
  var logLevel: String = ProcessInfo.processInfo.environment["WHAGO_LOG_LEVEL"] ?? "info"

  func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535 (0: any free port)") }
    for (flag, rate) in [
      ("--fail-rate", failRate), ("--timeout-rate", timeoutRate), ("--rate-limit-rate", rateLimitRate),
      ("--drop-rate", dropRate), ("--timeout-after-send-rate", timeoutAfterSendRate),
    ] where !(0...1).contains(rate) {
      throw ValidationError("\(flag) must be a fraction from 0 to 1, got \(rate)")
    }
    guard failRate + timeoutRate + rateLimitRate <= 1 else {
      throw ValidationError("--fail-rate + --timeout-rate + --rate-limit-rate must not exceed 1")
    }
    _ = try SimOptions.duration(latency, "--latency")
    _ = try SimOptions.duration(timeoutHold, "--timeout-hold")
    _ = try SimOptions.duration(startDelay, "--start-delay")
    _ = try parsedAckDelays()
    _ = try parsedWebhookURL()
  }

  func run() async throws {
    var logger = Logger(label: "whago.sim.waha")
    logger.logLevel = Logger.Level(rawValue: logLevel.lowercased()) ?? .info
    var configuration = WAHASimServer.Configuration()
    configuration.host = host
    configuration.port = port
    configuration.apiKey = SimOptions.value(apiKey, "WHAGO_SIM_API_KEY")
    configuration.webhookURL = try parsedWebhookURL()
    configuration.webhookSecret = SimOptions.value(webhookSecret, "WHAGO_SIM_WEBHOOK_SECRET")
    configuration.sessions = sessions.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }
    configuration.settings.latency = try SimOptions.duration(latency, "--latency")
    configuration.settings.failRate = failRate
    configuration.settings.timeoutRate = timeoutRate
    configuration.settings.rateLimitRate = rateLimitRate
    configuration.settings.dropRate = dropRate
    configuration.settings.timeoutHold = try SimOptions.duration(timeoutHold, "--timeout-hold")
    configuration.settings.timeoutAfterSendRate = timeoutAfterSendRate
    configuration.settings.startDelay = try SimOptions.duration(startDelay, "--start-delay")
    configuration.settings.ackDelays = try parsedAckDelays()
    configuration.settings.requireScan = requireScan

    // The key and the secret are never logged, only whether they are set.
    let metadata: Logger.Metadata = [
      "sessions": "\(configuration.sessions.joined(separator: ","))",
      "api_key": "\(configuration.apiKey == nil ? "none" : "set")",
      "webhooks": "\(configuration.webhookURL == nil ? "per session only" : "global URL set")",
      "webhook_hmac": "\(configuration.webhookSecret == nil ? "off" : "on")",
    ]
    let services = WAHASimServer.services(configuration, logger: logger) { [logger, host] bound in
      logger.notice("WAHA simulator listening on http://\(host):\(bound)", metadata: metadata)
    }
    let group = ServiceGroup(
      configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
  }

  private func parsedAckDelays() throws -> [Duration] {
    let text = ackDelays.trimmingCharacters(in: .whitespaces).lowercased()
    if text == "none" || text.isEmpty { return [] }
    let parts = text.split(separator: ",")
    guard parts.count <= 3 else { throw ValidationError("--ack-delays takes at most 3 delays: SERVER, DEVICE, READ") }
    return try parts.map { try SimOptions.duration(String($0), "--ack-delays") }
  }

  private func parsedWebhookURL() throws -> URL? {
    try SimOptions.webhookURL(webhookURL, example: "http://127.0.0.1:8080/v1/webhooks/waha")
  }
}

struct SimPayments: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "payments",
    abstract: "Simulate Stripe, Mercado Pago and PayPal charges on one port, with idempotency and a log of charges.",
    discussion: """
      One server, each gateway at its own paths, so http://HOST:PORT is the base URL of all three. \
      Auth is checked (401 in each gateway's shape). A repeated idempotency key (Stripe \
      Idempotency-Key, Mercado Pago X-Idempotency-Key, PayPal PayPal-Request-Id) replays the first \
      answer and charges nothing; Stripe answers 400 idempotency_error for the same key with other \
      parameters and 409 while the first request is in flight; Mercado Pago answers 400 without a key.

      Stripe: POST /v1/payment_intents (form, confirm=true). pm_card_visa and other pm_card_* succeed; \
      pm_card_chargeDeclined (generic_decline), pm_card_chargeDeclinedInsufficientFunds, \
      pm_card_chargeDeclinedLostCard, pm_card_chargeDeclinedStolenCard, pm_card_chargeDeclinedFraudulent \
      answer 402 card_declined; pm_card_authenticationRequired answers 402 authentication_required; \
      pm_card_timeoutAfterCharge charges, then holds the answer --timeout-hold.

      Mercado Pago: POST /v1/payments, GET /v1/payments/{id}. The card token decides, like the sandbox's \
      cardholder names: APRO approved; FUND, OTHE, SECU, CALL rejected (cc_rejected_insufficient_amount, \
      _other_reason, _bad_filled_security_code, _call_for_authorize); BLCK cc_rejected_blacklist; CONT \
      in_process/pending_contingency; CHAL pending/pending_challenge; TIMEOUT approved, answer held; \
      anything else approved. POST /preapproval creates an authorized subscription; \
      POST /_sim/mercadopago/preapproval/{id}/charge {"outcome":"approved"|"rejected"} plays Mercado Pago \
      charging it, and with --webhook-url and --mercadopago-webhook-secret sends the signed `payment` \
      webhook (x-signature, x-request-id, ?data.id=<id>&type=payment).

      PayPal: POST /v1/oauth2/token (Basic client id:secret), POST /v2/checkout/orders (intent CAPTURE, \
      payment_source.card.vault_id). The vault id decides: "instrument" 422 INSTRUMENT_DECLINED, "stolen" \
      capture DECLINED 9520, "declined" capture DECLINED 5120, "action" PAYER_ACTION_REQUIRED, "timeout" \
      COMPLETED with the answer held, else COMPLETED. POST /v1/notifications/verify-webhook-signature \
      answers SUCCESS when transmission_sig is hex HMAC-SHA256 under the PayPal client secret of \
      "<transmission_id>|<transmission_time>|<webhook_id>|<crc32 of the event, keys sorted, compact>" \
      and webhook_id is --paypal-webhook-id: the simulator plays PayPal's signer. \
      POST /_sim/paypal/sign with an event answers the PAYPAL-* headers a real delivery would carry.

      For tests (no auth): GET|DELETE /_sim/charges (every charge made, once per key: gateway, customer, \
      amount in cents, idempotency_key, outcome succeeded|declined|requires_action|pending, payment_id, \
      time in ms); GET|POST /_sim/config {latency_ms, timeout_hold_ms}. GET /ping answers pong. \
      Secrets are never logged, only whether they are set.
      """)

  @Option(help: "Address to bind. Env: WHAGO_HOST.")
  var host: String = ProcessInfo.processInfo.environment["WHAGO_HOST"] ?? "127.0.0.1"

  @Option(help: "Port to listen on (0: any free one, named in the log line 'listening on').")
  var port: Int = 4000

  @Option(help: "Added before every gateway answer.")
  var latency: String = "0ms"

  @Option(help: "How long a 'timeout' payment method holds its answer after charging.")
  var timeoutHold: String = "30s"

  @Option(help: "Stripe secret key requests must carry (default sk_test_sim). Env: WHAGO_SIM_STRIPE_KEY.")
  var stripeKey: String?

  @Option(help: "Mercado Pago access token requests must carry (default TEST-sim). Env: WHAGO_SIM_MERCADOPAGO_TOKEN.")
  var mercadopagoToken: String?

  @Option(help: "PayPal client id (default sim). Env: WHAGO_SIM_PAYPAL_CLIENT_ID.")
  var paypalClientID: String?

  @Option(
    help: "PayPal client secret; also signs simulated webhooks (default sim). Env: WHAGO_SIM_PAYPAL_CLIENT_SECRET.")
  var paypalClientSecret: String?

  @Option(help: "The webhook id PayPal's signature check accepts.")
  var paypalWebhookID: String = "WH-SIM"

  @Option(help: "Where Mercado Pago subscription payments are announced. Env: WHAGO_SIM_WEBHOOK_URL.")
  var webhookURL: String?

  @Option(help: "Signs Mercado Pago webhooks (x-signature). Env: WHAGO_SIM_MERCADOPAGO_WEBHOOK_SECRET.")
  var mercadopagoWebhookSecret: String?

  @Option(help: "Log level: trace, debug, info, notice, warning, error. Env: WHAGO_LOG_LEVEL.")
  var logLevel: String = ProcessInfo.processInfo.environment["WHAGO_LOG_LEVEL"] ?? "info"

  func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535 (0: any free port)") }
    _ = try SimOptions.duration(latency, "--latency")
    _ = try SimOptions.duration(timeoutHold, "--timeout-hold")
    _ = try parsedWebhookURL()
  }

  func run() async throws {
    var logger = Logger(label: "whago.sim.payments")
    logger.logLevel = Logger.Level(rawValue: logLevel.lowercased()) ?? .info
    var configuration = PaymentsSimServer.Configuration()
    configuration.host = host
    configuration.port = port
    configuration.settings.latency = try SimOptions.duration(latency, "--latency")
    configuration.settings.timeoutHold = try SimOptions.duration(timeoutHold, "--timeout-hold")
    if let key = SimOptions.value(stripeKey, "WHAGO_SIM_STRIPE_KEY") { configuration.stripeKey = key }
    if let token = SimOptions.value(mercadopagoToken, "WHAGO_SIM_MERCADOPAGO_TOKEN") {
      configuration.mercadoPagoToken = token
    }
    if let id = SimOptions.value(paypalClientID, "WHAGO_SIM_PAYPAL_CLIENT_ID") { configuration.paypalClientID = id }
    if let secret = SimOptions.value(paypalClientSecret, "WHAGO_SIM_PAYPAL_CLIENT_SECRET") {
      configuration.paypalClientSecret = secret
    }
    configuration.paypalWebhookID = paypalWebhookID
    configuration.webhookURL = try parsedWebhookURL()
    configuration.mercadoPagoWebhookSecret = SimOptions.value(
      mercadopagoWebhookSecret, "WHAGO_SIM_MERCADOPAGO_WEBHOOK_SECRET")

    // Keys and secrets are never logged, only what is not secret.
    let metadata: Logger.Metadata = [
      "paypal_webhook_id": "\(configuration.paypalWebhookID)",
      "mercadopago_webhooks":
        "\(configuration.webhookURL != nil && configuration.mercadoPagoWebhookSecret != nil ? "on" : "off")",
    ]
    let services = PaymentsSimServer.services(configuration, logger: logger) { [logger, host] bound in
      logger.notice("payments simulator listening on http://\(host):\(bound)", metadata: metadata)
    }
    let group = ServiceGroup(
      configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
  }

  private func parsedWebhookURL() throws -> URL? {
    try SimOptions.webhookURL(webhookURL, example: "http://127.0.0.1:8080/v1/webhooks/mercadopago")
  }
}
