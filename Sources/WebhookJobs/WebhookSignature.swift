import Crypto
import Foundation

/// How a receiver knows a delivery is ours and fresh: Stripe's scheme, so its verification code
/// can be reused. `Whago-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`
/// under the endpoint's secret; a receiver recomputes it over the bytes it received and refuses a
/// `t` more than a few minutes old.
public enum WebhookSignature {
  public static func header(secret: String, timestamp: Int64, body: [UInt8]) -> String {
    "t=\(timestamp),v1=\(hex(secret: secret, timestamp: timestamp, body: body))"
  }

  public static func hex(secret: String, timestamp: Int64, body: [UInt8]) -> String {
    let signed = Array("\(timestamp).".utf8) + body
    let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Array(secret.utf8)))
    return mac.map { String(format: "%02x", $0) }.joined()
  }
}
