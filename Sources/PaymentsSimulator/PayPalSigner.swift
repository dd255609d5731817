import Crypto
import Foundation
import Wire

/// The simulator's stand-in for PayPal's webhook signer. Real PayPal signs
/// `<transmission_id>|<transmission_time>|<webhook_id>|<crc32 of the body>` with SHA256withRSA and a
/// certificate at PAYPAL-CERT-URL; here the same message is signed with hex HMAC-SHA256 under the
/// simulator's PayPal client secret, which only the simulator checks (through PayPal's own
/// `verify-webhook-signature` route), so a receiver's code path is the real one.
///
/// The CRC32 covers the event in canonical form (keys sorted, no spaces), so the check does not
/// depend on how a verifier re-serializes the event it passes along; any change of content fails it.
struct PayPalSigner: Sendable {
  let secret: String
  let webhookID: String

  static let authAlgo = "SHA256withRSA"
  static let certURL = "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-SIM-0001"

  /// The PAYPAL-* headers a real delivery of `event` to `webhookID` would carry.
  func headers(for event: JSONValue, transmissionID: String = UUID().uuidString.lowercased(), time: Date = Date())
    -> [String: String]
  {
    let transmissionTime = time.ISO8601Format()
    return [
      "PAYPAL-AUTH-ALGO": Self.authAlgo, "PAYPAL-CERT-URL": Self.certURL,
      "PAYPAL-TRANSMISSION-ID": transmissionID, "PAYPAL-TRANSMISSION-TIME": transmissionTime,
      "PAYPAL-TRANSMISSION-SIG": signature(
        transmissionID: transmissionID, transmissionTime: transmissionTime, webhookID: webhookID, event: event),
    ]
  }

  func verify(
    transmissionID: String, transmissionTime: String, webhookID: String, signature given: String, event: JSONValue
  ) -> Bool {
    webhookID == self.webhookID
      && constantTimeEqual(
        given,
        signature(
          transmissionID: transmissionID, transmissionTime: transmissionTime, webhookID: webhookID, event: event))
  }

  private func signature(transmissionID: String, transmissionTime: String, webhookID: String, event: JSONValue)
    -> String
  {
    let message = "\(transmissionID)|\(transmissionTime)|\(webhookID)|\(CRC32.checksum(event.encoded()))"
    let code = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(secret.utf8)))
    return code.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
  }
}

/// CRC-32 (IEEE 802.3, reflected, as zlib computes it), the checksum PayPal's signed message carries.
enum CRC32 {
  private static let table: [UInt32] = (0..<256).map { index in
    (0..<8).reduce(UInt32(index)) { crc, _ in crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
  }

  static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
    ~bytes.reduce(~UInt32(0)) { crc, byte in table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
  }
}
