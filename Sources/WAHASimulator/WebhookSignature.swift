import Crypto
import Foundation

/// `X-Webhook-Hmac`: hex HMAC-SHA512 of the raw body under the webhook's key, as WAHA signs, so a
/// receiver's verification is tested against the real algorithm.
public enum WebhookSignature {
  public static let algorithm = "sha512"

  public static func hmac(key: String, body: Data) -> String {
    let code = HMAC<SHA512>.authenticationCode(for: body, using: SymmetricKey(data: Data(key.utf8)))
    return code.map { String(format: "%02x", $0) }.joined()
  }
}
