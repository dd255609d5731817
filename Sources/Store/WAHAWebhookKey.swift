import Crypto
import Foundation

/// Each chip's webhook signing key, derived from the shared secret and the chip's id, so nothing
/// new is stored and rotating the shared secret rotates every chip's key. Knowing one chip's key
/// says nothing about another's, nor about the shared secret (HMAC is a PRF).
public enum WAHAWebhookKey {
  /// hex(HMAC-SHA256(shared secret, "whago-waha-webhook:chip:<id>")): 64 characters, as WAHA's
  /// `hmac.key` takes a string.
  public static func forChip(_ id: Int64, secret: String) -> String {
    let code = HMAC<SHA256>.authenticationCode(
      for: Data("whago-waha-webhook:chip:\(id)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
    return code.map { String(format: "%02x", $0) }.joined()
  }

  /// Where a chip's WAHA session sends its events.
  public static func path(chip id: Int64) -> String { "/v1/webhooks/waha/chips/\(id)" }

  /// The events whago reads from a chip's session.
  public static let events = ["session.status", "message", "message.ack"]
}
