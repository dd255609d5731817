import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals
import WAHASimulator

/// Simulators of the services WHAGO talks to, for the demo and the tests.
struct Sim: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Simulate the services WHAGO talks to (WhatsApp through WAHA), for demos and tests.",
    subcommands: [SimWAHA.self])
}

struct SimWAHA: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "waha",
    abstract: "Simulate WAHA's REST API and webhooks: sessions, sends, acks, faults, and a log of accepted messages.",
    discussion: """
      WAHA's endpoints and JSON shapes (NOWEB engine): POST|GET /api/sessions, GET|PUT|DELETE \
      /api/sessions/{s}, POST /api/sessions/{s}/start|stop|restart|logout, POST /api/sendText, \
      sendImage, sendFile, sendSeen, startTyping, stopTyping, GET /api/contacts/check-exists, \
      GET /api/{s}/chats/{chatId}/messages (accepted sends, newest first; limit, filter.fromMe, \
      filter.timestamp.gte in seconds). \
      Sends answer 201; 401 without the key; 400 for a bad body (chatId must be digits@c.us); \
      404 for an unknown session; 422 with WAHA's body when the session is not WORKING. \
      Sessions need no QR scan: a started session is STARTING, then WORKING after --start-delay.

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
      ack_delays_ms}; GET|DELETE /_sim/messages (every accepted message: session, chatId, text, id, \
      time, media_url); \
      POST /_sim/sessions/{s}/status {"status":"FAILED"}; POST /_sim/incoming \
      {"session","from","body"} sends a `message` webhook. GET /ping answers pong.
      """)

  @Option(help: "Address to bind. Env: WHAGO_HOST.")
  var host: String = ProcessInfo.processInfo.environment["WHAGO_HOST"] ?? "127.0.0.1"

  @Option(help: "Port to listen on (WAHA's own is 3000).")
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

  @Option(help: "STARTING to WORKING.")
  var startDelay: String = "200ms"

  @Option(help: "When message.ack SERVER, DEVICE and READ follow a send; 'none' sends no acks.")
  var ackDelays: String = "50ms,100ms,200ms"

  @Option(help: "Sessions that exist, WORKING, at startup (comma-separated; empty for none).")
  var sessions: String = "default"

  @Option(help: "Log level: trace, debug, info, notice, warning, error. Env: WHAGO_LOG_LEVEL.")
  var logLevel: String = ProcessInfo.processInfo.environment["WHAGO_LOG_LEVEL"] ?? "info"

  /// A flag, else its environment variable (read here, so a secret never shows as a default in --help).
  private func value(_ flag: String?, _ variable: String) -> String? {
    let value = flag ?? ProcessInfo.processInfo.environment[variable]
    return value?.isEmpty == false ? value : nil
  }

  func validate() throws {
    guard (1...65535).contains(port) else { throw ValidationError("--port must be 1 to 65535") }
    for (flag, rate) in [
      ("--fail-rate", failRate), ("--timeout-rate", timeoutRate), ("--rate-limit-rate", rateLimitRate),
      ("--drop-rate", dropRate), ("--timeout-after-send-rate", timeoutAfterSendRate),
    ] where !(0...1).contains(rate) {
      throw ValidationError("\(flag) must be a fraction from 0 to 1, got \(rate)")
    }
    guard failRate + timeoutRate + rateLimitRate <= 1 else {
      throw ValidationError("--fail-rate + --timeout-rate + --rate-limit-rate must not exceed 1")
    }
    _ = try duration(latency, "--latency")
    _ = try duration(timeoutHold, "--timeout-hold")
    _ = try duration(startDelay, "--start-delay")
    _ = try parsedAckDelays()
    _ = try parsedWebhookURL()
  }

  func run() async throws {
    var logger = Logger(label: "whago.sim.waha")
    logger.logLevel = Logger.Level(rawValue: logLevel.lowercased()) ?? .info
    var configuration = WAHASimServer.Configuration()
    configuration.host = host
    configuration.port = port
    configuration.apiKey = value(apiKey, "WHAGO_SIM_API_KEY")
    configuration.webhookURL = try parsedWebhookURL()
    configuration.webhookSecret = value(webhookSecret, "WHAGO_SIM_WEBHOOK_SECRET")
    configuration.sessions = sessions.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }
    configuration.settings.latency = try duration(latency, "--latency")
    configuration.settings.failRate = failRate
    configuration.settings.timeoutRate = timeoutRate
    configuration.settings.rateLimitRate = rateLimitRate
    configuration.settings.dropRate = dropRate
    configuration.settings.timeoutHold = try duration(timeoutHold, "--timeout-hold")
    configuration.settings.timeoutAfterSendRate = timeoutAfterSendRate
    configuration.settings.startDelay = try duration(startDelay, "--start-delay")
    configuration.settings.ackDelays = try parsedAckDelays()

    let group = ServiceGroup(
      configuration: .init(
        services: WAHASimServer.services(configuration, logger: logger), gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger))
    // The key and the secret are never logged, only whether they are set.
    logger.notice(
      "WAHA simulator listening",
      metadata: [
        "address": "http://\(host):\(port)", "sessions": "\(configuration.sessions.joined(separator: ","))",
        "api_key": "\(configuration.apiKey == nil ? "none" : "set")",
        "webhooks": "\(configuration.webhookURL == nil ? "per session only" : "global URL set")",
        "webhook_hmac": "\(configuration.webhookSecret == nil ? "off" : "on")",
      ])
    try await group.run()
  }

  private func duration(_ text: String, _ flag: String) throws -> Duration {
    guard let value = DurationArgument(argument: text) else {
      throw ValidationError("\(flag): '\(text)' is not a duration like 20ms, 5s or 1m")
    }
    return value.duration
  }

  private func parsedAckDelays() throws -> [Duration] {
    let text = ackDelays.trimmingCharacters(in: .whitespaces).lowercased()
    if text == "none" || text.isEmpty { return [] }
    let parts = text.split(separator: ",")
    guard parts.count <= 3 else { throw ValidationError("--ack-delays takes at most 3 delays: SERVER, DEVICE, READ") }
    return try parts.map { try duration(String($0), "--ack-delays") }
  }

  private func parsedWebhookURL() throws -> URL? {
    guard let webhookURL = value(webhookURL, "WHAGO_SIM_WEBHOOK_URL") else { return nil }
    guard let url = URL(string: webhookURL), url.scheme == "http" || url.scheme == "https", url.host != nil else {
      throw ValidationError("--webhook-url must be an http(s) URL, like http://127.0.0.1:8080/v1/webhooks/waha")
    }
    return url
  }
}
