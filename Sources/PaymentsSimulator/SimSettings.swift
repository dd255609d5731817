import Foundation
import Synchronization
import Wire

/// What a test turns while the simulator runs (`POST /_sim/config`).
public struct PaymentsSimSettings: Sendable, Equatable {
  /// Added before every gateway answer, while a charge holds its idempotency key (so a concurrent
  /// duplicate meets Stripe's 409).
  public var latency: Duration = .zero
  /// How long a "timeout" payment method holds its answer after charging: longer than the client's
  /// timeout, so the client gives up on a charge that went through.
  public var timeoutHold: Duration = .seconds(30)
  /// Where Mercado Pago subscription payments are announced (signed with the secret given at
  /// start); settable while running so a test can start the simulator before the server it calls.
  public var webhookURL: String?
  /// How long a key and its stored answer are kept before they are pruned, as Stripe prunes keys
  /// after 24 h: a request with a pruned key is a new request, and charges again.
  public var idempotencyWindow: Duration = .seconds(86_400)

  public init() {}

  var json: JSONValue {
    [
      "latency_ms": .int(Int64(latency.milliseconds)), "timeout_hold_ms": .int(Int64(timeoutHold.milliseconds)),
      "webhook_url": webhookURL.map { .string($0) } ?? .null,
      "idempotency_window_ms": .int(Int64(idempotencyWindow.milliseconds)),
    ]
  }

  /// Applies the fields present in `patch`; nothing changes unless all of it is valid.
  mutating func apply(_ patch: JSONValue) throws(GatewayReply) {
    guard case .object(let fields) = patch else { throw ControlRoutes.invalid(["body must be a JSON object"]) }
    var next = self
    var problems: [String] = []
    for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
      if key == "webhook_url" {
        if case .null = value {
          next.webhookURL = nil
        } else if let text = value.string, let url = URL(string: text), ["http", "https"].contains(url.scheme ?? "") {
          next.webhookURL = text
        } else {
          problems.append("webhook_url must be an http(s) URL or null")
        }
        continue
      }
      if key == "idempotency_window_ms" {
        if let number = value.number, number >= 0, number <= 7 * 86_400_000 {
          next.idempotencyWindow = .milliseconds(Int64(number))
        } else {
          problems.append("idempotency_window_ms must be milliseconds from 0 to 604800000 (7 days)")
        }
        continue
      }
      guard key == "latency_ms" || key == "timeout_hold_ms" else {
        problems.append(
          "unknown field \(key); known: latency_ms, timeout_hold_ms, webhook_url, idempotency_window_ms")
        continue
      }
      guard let number = value.number, number >= 0, number <= 3_600_000 else {
        problems.append("\(key) must be milliseconds from 0 to 3600000")
        continue
      }
      if key == "latency_ms" {
        next.latency = .milliseconds(Int64(number))
      } else {
        next.timeoutHold = .milliseconds(Int64(number))
      }
    }
    guard problems.isEmpty else { throw ControlRoutes.invalid(problems) }
    self = next
  }
}

/// The settings in force, shared by every route.
final class LiveSettings: Sendable {
  private let settings: Mutex<PaymentsSimSettings>

  init(_ settings: PaymentsSimSettings) {
    self.settings = Mutex(settings)
  }

  var current: PaymentsSimSettings { settings.withLock { $0 } }

  func update(_ patch: JSONValue) throws(GatewayReply) -> PaymentsSimSettings {
    try settings.withLock { (settings) throws(GatewayReply) -> PaymentsSimSettings in
      try settings.apply(patch)
      return settings
    }
  }
}

extension Duration {
  var milliseconds: Int {
    let (seconds, attoseconds) = components
    return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
  }
}
