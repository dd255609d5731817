import Crypto
import Foundation
import Payments
import Testing

/// Stripe's and Mercado Pago's webhook signatures, checked offline: a genuine delivery passes; a
/// wrong secret, a changed body or id, an old timestamp, a missing or garbled header do not.
@Suite struct WebhookSignatureTests {
  let secret = "whsec_test_secret"
  let body = Data(#"{"id":"evt_1","type":"invoice.paid","data":{"object":{"id":"in_1"}}}"#.utf8)
  let now = Date(timeIntervalSince1970: 1_750_000_000)

  @Test func stripe() {
    let header = StripeSignature.sign(body: body, secret: secret, timestamp: now)
    #expect(header.hasPrefix("t=1750000000,v1="))
    #expect(StripeSignature.verify(header: header, body: body, secret: secret, now: now))
    // Within the tolerance either way, and a rolled secret's extra v1 does not get in the way.
    #expect(StripeSignature.verify(header: header, body: body, secret: secret, now: now.addingTimeInterval(299)))
    let rolled = header.replacingOccurrences(of: ",v1=", with: ",v1=\(String(repeating: "ab", count: 32)),v1=")
    #expect(StripeSignature.verify(header: rolled, body: body, secret: secret, now: now))

    #expect(!StripeSignature.verify(header: header, body: body, secret: "whsec_other", now: now))
    var tampered = body
    tampered[tampered.count - 3] = UInt8(ascii: "2")
    #expect(!StripeSignature.verify(header: header, body: tampered, secret: secret, now: now))
    #expect(!StripeSignature.verify(header: header, body: body, secret: secret, now: now.addingTimeInterval(301)))
    #expect(!StripeSignature.verify(header: header, body: body, secret: secret, now: now.addingTimeInterval(-301)))
    #expect(!StripeSignature.verify(header: nil, body: body, secret: secret, now: now))
    for garbled in [
      "", "garbage", "t=abc,v1=00", "v1=" + header.split(separator: "=").last!, "t=1750000000", "t=1750000000,v1=zz",
    ] {
      #expect(!StripeSignature.verify(header: garbled, body: body, secret: secret, now: now), "\(garbled)")
    }
  }

  @Test func mercadoPago() {
    let signature = MercadoPagoSignature.sign(dataID: "123456", requestID: "req-1", secret: secret, timestamp: now)
    #expect(signature.hasPrefix("ts=1750000000000,v1="))
    #expect(
      MercadoPagoSignature.verify(
        xSignature: signature, xRequestID: "req-1", dataID: "123456", secret: secret, now: now))
    // Without a clock, the timestamp is not checked.
    #expect(
      MercadoPagoSignature.verify(
        xSignature: signature, xRequestID: "req-1", dataID: "123456", secret: secret, now: nil))

    #expect(
      !MercadoPagoSignature.verify(
        xSignature: signature, xRequestID: "req-1", dataID: "123456", secret: "other", now: now))
    #expect(
      !MercadoPagoSignature.verify(
        xSignature: signature, xRequestID: "req-1", dataID: "123457", secret: secret, now: now))
    #expect(
      !MercadoPagoSignature.verify(
        xSignature: signature, xRequestID: "req-2", dataID: "123456", secret: secret, now: now))
    #expect(
      !MercadoPagoSignature.verify(
        xSignature: signature, xRequestID: "req-1", dataID: "123456", secret: secret, now: now.addingTimeInterval(301)))
    #expect(
      !MercadoPagoSignature.verify(xSignature: nil, xRequestID: "req-1", dataID: "123456", secret: secret, now: now))
    #expect(
      !MercadoPagoSignature.verify(
        xSignature: "ts=,v1=", xRequestID: "req-1", dataID: "123456", secret: secret, now: now))
  }

  /// The manifest as Mercado Pago's documentation builds it: an alphanumeric data.id lower-cased,
  /// absent parts left out, ts as sent (seconds are accepted as well as milliseconds).
  @Test func mercadoPagoManifest() {
    #expect(
      MercadoPagoSignature.manifest(dataID: "ABC123", requestID: "r", ts: "1") == "id:abc123;request-id:r;ts:1;")
    #expect(MercadoPagoSignature.manifest(dataID: nil, requestID: "r", ts: "1") == "request-id:r;ts:1;")
    #expect(MercadoPagoSignature.manifest(dataID: "9", requestID: nil, ts: "1") == "id:9;ts:1;")
    let upper = MercadoPagoSignature.sign(dataID: "ABC123", requestID: "r", secret: secret, timestamp: now)
    #expect(MercadoPagoSignature.verify(xSignature: upper, xRequestID: "r", dataID: "abc123", secret: secret, now: now))

    // A hand-made header with ts in seconds, as older deliveries carry.
    let seconds = MercadoPagoSignature.manifest(dataID: "77", requestID: "r", ts: "1750000000")
    let code = hmacHex(secret, seconds)
    #expect(
      MercadoPagoSignature.verify(
        xSignature: "ts=1750000000,v1=\(code)", xRequestID: "r", dataID: "77", secret: secret, now: now))
  }
}

func hmacHex(_ key: String, _ message: String) -> String {
  HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(key.utf8)))
    .map { String(format: "%02x", $0) }.joined()
}
