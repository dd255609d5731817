import OutboundHTTP

/// A session's `config`, as `POST /api/sessions` and `PUT /api/sessions/{s}` take it: the chip's
/// proxy, the metadata WAHA echoes in every webhook, and where the webhooks go. Encoded in WAHA's
/// shape; empty parts are left out (WAHA drops fields it does not know, so a typo would not be
/// noticed: the tests read the config back). Its description never shows a password, a key or a
/// webhook URL's query.
public struct SessionConfig: Encodable, Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
  public var proxy: SessionProxy?
  /// Strings only, as WAHA takes them; e.g. the tenant and chip ids, so a webhook names its chip.
  public var metadata: [String: String]
  public var webhooks: [SessionWebhook]

  public init(proxy: SessionProxy? = nil, metadata: [String: String] = [:], webhooks: [SessionWebhook] = []) {
    self.proxy = proxy
    self.metadata = metadata
    self.webhooks = webhooks
  }

  private enum CodingKeys: String, CodingKey { case proxy, metadata, webhooks }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encodeIfPresent(proxy, forKey: .proxy)
    if !metadata.isEmpty { try container.encode(metadata, forKey: .metadata) }
    if !webhooks.isEmpty { try container.encode(webhooks, forKey: .webhooks) }
  }

  public var description: String {
    "SessionConfig(proxy: \(proxy.map(\.description) ?? "none"), metadata: \(metadata.keys.sorted()), "
      + "webhooks: \(webhooks.map(\.description)))"
  }

  public var debugDescription: String { description }
}

/// `config.proxy`: `server` is `host:port` without a scheme, as WAHA's docs write it.
public struct SessionProxy: Encodable, Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
  public var server: String
  public var username: String?
  public var password: String?

  public init(server: String, username: String? = nil, password: String? = nil) {
    self.server = server
    self.username = username
    self.password = password
  }

  /// The server only: a provider's username may carry the account's login and sticky session.
  public var description: String {
    "SessionProxy(server: \(server), credentials: \(username == nil && password == nil ? "none" : "set"))"
  }

  public var debugDescription: String { description }
}

/// One `config.webhooks[]` entry:
/// `{"url","events":[...],"hmac":{"key"},"retries":{"policy","delaySeconds","attempts"}}`.
public struct SessionWebhook: Encodable, Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
  /// How WAHA retries a delivery that failed.
  public struct Retries: Encodable, Sendable, Equatable {
    public enum Policy: String, Encodable, Sendable { case linear, exponential, constant }
    public var policy: Policy
    public var delaySeconds: Int
    public var attempts: Int

    public init(policy: Policy, delaySeconds: Int, attempts: Int) {
      self.policy = policy
      self.delaySeconds = delaySeconds
      self.attempts = attempts
    }
  }

  public var url: String
  /// Event names (`session.status`, `message`, `message.ack`, ...), or `["*"]` for all.
  public var events: [String]
  /// Signs each delivery: `X-Webhook-Hmac` = hex HMAC-SHA512 of the body under this key.
  public var hmacKey: String?
  /// nil: WAHA's own default.
  public var retries: Retries?

  public init(url: String, events: [String], hmacKey: String? = nil, retries: Retries? = nil) {
    self.url = url
    self.events = events
    self.hmacKey = hmacKey
    self.retries = retries
  }

  private enum CodingKeys: String, CodingKey { case url, events, hmac, retries }
  private struct HMAC: Encodable { var key: String }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(url, forKey: .url)
    try container.encode(events, forKey: .events)
    try container.encodeIfPresent(hmacKey.map { HMAC(key: $0) }, forKey: .hmac)
    try container.encodeIfPresent(retries, forKey: .retries)
  }

  public var description: String {
    "SessionWebhook(url: \(HTTPClientError.safe(url)), events: \(events), hmac: \(hmacKey == nil ? "off" : "on"))"
  }

  public var debugDescription: String { description }
}
