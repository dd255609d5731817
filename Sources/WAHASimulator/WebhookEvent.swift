import Foundation
import Wire

/// Where one session's events go: a `webhooks[]` entry of its config, or the global `--webhook-url`.
struct WebhookTarget: Sendable, Equatable {
  var url: URL
  /// HMAC key; nil sends no `X-Webhook-Hmac`.
  var secret: String?
  /// Events this target wants; nil or `*`: all.
  var events: Set<String>?
  var headers: [String: String] = [:]

  func wants(_ event: String) -> Bool {
    guard let events else { return true }
    return events.contains(event) || events.contains("*")
  }

  /// A session's targets: its own `config.webhooks[]` when it names any URL, else the global one.
  static func resolve(config: JSONValue, fallback: WebhookTarget?) -> [WebhookTarget] {
    let own = (config["webhooks"]?.array ?? []).compactMap { hook -> WebhookTarget? in
      guard let text = hook["url"]?.string, let url = URL(string: text), url.scheme?.hasPrefix("http") == true else {
        return nil
      }
      var headers: [String: String] = [:]
      for header in hook["customHeaders"]?.array ?? [] {
        if let name = header["name"]?.string, let value = header["value"]?.string { headers[name] = value }
      }
      return WebhookTarget(
        url: url, secret: hook["hmac"]?["key"]?.string ?? fallback?.secret,
        events: hook["events"]?.array.map { Set($0.compactMap(\.string)) }, headers: headers)
    }
    if !own.isEmpty { return own }
    return fallback.map { [$0] } ?? []
  }
}

/// One event as WAHA sends it, with the session facts its envelope carries, taken when it happened.
struct WebhookEvent: Sendable {
  var event: String
  var session: String
  var metadata: JSONValue
  var me: JSONValue
  var payload: JSONValue
  var targets: [WebhookTarget]

  init(_ event: String, session: SimSession, payload: JSONValue, targets: [WebhookTarget]) {
    self.event = event
    self.session = session.name
    metadata = session.metadata
    // The account, once one is linked; before the first login WAHA knows no number.
    me = session.loggedIn ? session.me : .null
    self.payload = payload
    self.targets = targets.filter { $0.wants(event) }
  }

  /// WAHA's envelope. The sender makes the id once per delivery, before the first try, so every retry
  /// carries the same id and a receiver can dedupe on it.
  func envelope(id: String, timestamp: Int) -> JSONValue {
    [
      "id": JSONValue(id), "timestamp": JSONValue(timestamp), "event": JSONValue(event), "session": JSONValue(session),
      "metadata": metadata, "me": me, "payload": payload, "engine": "NOWEB",
      "environment": ["version": "2025.1.0-sim", "engine": "NOWEB", "tier": "CORE", "browser": nil],
    ]
  }
}
