import Foundation
import Payments
import ServiceLifecycle

/// The path every simulated charge takes: claim the idempotency key, wait the configured latency,
/// charge once and log it, store the answer under the key, and (for the "timeout" payment methods)
/// hold the answer back long enough that the client gives up on a charge that went through.
struct ChargeFlow: Sendable {
  /// What one charge did: the answer to store and send, the log line, whether to hold the answer.
  struct Charged {
    var reply: GatewayReply
    var record: ChargeRecord
    var hold = false
  }

  /// How a gateway answers the key problems, in its own shape.
  struct KeyErrors: Sendable {
    var mismatch: @Sendable (String) -> GatewayReply
    var inProgress: @Sendable (String) -> GatewayReply
  }

  let keys: IdempotencyKeys
  let log: ChargeLog
  let settings: LiveSettings

  func run(
    _ gateway: Gateway, key: String?, fingerprint: String, compareParameters: Bool, errors: KeyErrors,
    charge: () -> Charged
  ) async throws -> GatewayReply {
    if let key {
      let window = Int64(settings.current.idempotencyWindow.milliseconds)
      switch keys.claim(
        gateway, key: key, fingerprint: fingerprint, compareParameters: compareParameters, window: window)
      {
      case .fresh: break
      case .replay(let stored):
        try await pause()
        return GatewayReply(code: stored.code, body: stored.body, headers: ["Idempotent-Replayed": "true"])
      case .mismatch: throw errors.mismatch(key)
      case .inProgress: throw errors.inProgress(key)
      }
    }
    try? await pause()
    let charged = charge()
    log.append(charged.record)
    if let key { keys.complete(gateway, key: key, reply: .init(code: charged.reply.code, body: charged.reply.body)) }
    if charged.hold {
      // Held past the client's timeout; a shutdown ends the wait so Ctrl-C is not held up by it.
      let hold = settings.current.timeoutHold
      try? await cancelWhenGracefulShutdown { try await Task.sleep(for: hold) }
    }
    return charged.reply
  }

  /// The configured latency, for every gateway answer.
  func pause() async throws {
    let latency = settings.current.latency
    if latency > .zero { try await Task.sleep(for: latency) }
  }
}
