import Crypto
import Foundation

/// `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, where v1 is hex HMAC-SHA256 of
/// `"<t>.<raw body>"` under the endpoint's signing secret. Several v1 appear while a secret is being
/// rolled; any one matching is enough. The timestamp is signed too, so an old delivery replayed
/// later fails the tolerance check.
public enum StripeSignature {
  public static func verify(
    header: String?, body: Data, secret: String, now: Date, tolerance: TimeInterval = 300
  ) -> Bool {
    guard let header, !secret.isEmpty else { return false }
    let fields = SignatureHeader.fields(header)
    guard let t = fields.first(where: { $0.key == "t" }).flatMap({ Int64($0.value) }),
      abs(now.timeIntervalSince1970 - TimeInterval(t)) <= tolerance
    else { return false }
    let payload = Data("\(t).".utf8) + body
    let key = SymmetricKey(data: Data(secret.utf8))
    return fields.contains { field in
      guard field.key == "v1", let code = SignatureHeader.bytes(hex: field.value) else { return false }
      return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: payload, using: key)
    }
  }

  /// The header Stripe would send for `body` at `timestamp` (for the simulator and tests).
  public static func sign(body: Data, secret: String, timestamp: Date) -> String {
    let t = Int64(timestamp.timeIntervalSince1970)
    let code = HMAC<SHA256>.authenticationCode(
      for: Data("\(t).".utf8) + body, using: SymmetricKey(data: Data(secret.utf8)))
    return "t=\(t),v1=\(SignatureHeader.hex(code))"
  }
}

/// Mercado Pago's `x-signature: ts=<ts>,v1=<hex>`, where v1 is hex HMAC-SHA256 under the
/// application's webhook secret of the manifest `id:<data.id>;request-id:<x-request-id>;ts:<ts>;`.
/// The body is not signed: `data.id` comes from the notification's query string, and the receiver
/// looks the payment up rather than trusting the body. A part whose value is absent is left out of
/// the manifest, as Mercado Pago's documentation says.
public enum MercadoPagoSignature {
  public static func verify(
    xSignature: String?, xRequestID: String?, dataID: String?, secret: String, now: Date?,
    tolerance: TimeInterval = 300
  ) -> Bool {
    guard let xSignature, !secret.isEmpty else { return false }
    let fields = SignatureHeader.fields(xSignature)
    guard let ts = fields.first(where: { $0.key == "ts" })?.value, let tsNumber = Int64(ts) else { return false }
    if let now {
      // Mercado Pago has sent ts both in seconds and in milliseconds; a 13-digit value is milliseconds.
      let seconds = tsNumber > 100_000_000_000 ? TimeInterval(tsNumber) / 1000 : TimeInterval(tsNumber)
      guard abs(now.timeIntervalSince1970 - seconds) <= tolerance else { return false }
    }
    let payload = Data(manifest(dataID: dataID, requestID: xRequestID, ts: ts).utf8)
    let key = SymmetricKey(data: Data(secret.utf8))
    return fields.contains { field in
      guard field.key == "v1", let code = SignatureHeader.bytes(hex: field.value) else { return false }
      return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: payload, using: key)
    }
  }

  /// `id:<data.id>;request-id:<x-request-id>;ts:<ts>;`, data.id lower-cased when alphanumeric.
  public static func manifest(dataID: String?, requestID: String?, ts: String) -> String {
    var manifest = ""
    if let dataID, !dataID.isEmpty {
      let alphanumeric = dataID.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) }
      manifest += "id:\(alphanumeric ? dataID.lowercased() : dataID);"
    }
    if let requestID, !requestID.isEmpty { manifest += "request-id:\(requestID);" }
    return manifest + "ts:\(ts);"
  }

  /// The `x-signature` Mercado Pago would send (for the simulator and tests); ts in milliseconds.
  public static func sign(dataID: String?, requestID: String?, secret: String, timestamp: Date) -> String {
    let ts = String(Int64(timestamp.timeIntervalSince1970 * 1000))
    let code = HMAC<SHA256>.authenticationCode(
      for: Data(manifest(dataID: dataID, requestID: requestID, ts: ts).utf8),
      using: SymmetricKey(data: Data(secret.utf8)))
    return "ts=\(ts),v1=\(SignatureHeader.hex(code))"
  }
}

/// The `k=v,k=v` headers both gateways use, and hex.
enum SignatureHeader {
  static func fields(_ header: String) -> [(key: String, value: String)] {
    header.split(separator: ",").compactMap { part in
      let pair = part.split(separator: "=", maxSplits: 1)
      guard pair.count == 2 else { return nil }
      return (pair[0].trimmingCharacters(in: .whitespaces), pair[1].trimmingCharacters(in: .whitespaces))
    }
  }

  static func bytes(hex: String) -> Data? {
    let digits = Array(hex.utf8)
    guard !digits.isEmpty, digits.count % 2 == 0 else { return nil }
    var bytes = Data(capacity: digits.count / 2)
    var index = 0
    while index < digits.count {
      guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
      bytes.append(high << 4 | low)
      index += 2
    }
    return bytes
  }

  static func hex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
  }

  private static func nibble(_ digit: UInt8) -> UInt8? {
    switch digit {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
    default: nil
    }
  }
}
