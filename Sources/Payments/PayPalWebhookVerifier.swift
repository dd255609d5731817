import Foundation
import OutboundHTTP

/// Checks a PayPal webhook delivery the way PayPal offers: by asking PayPal
/// (`POST /v1/notifications/verify-webhook-signature`) whether the PAYPAL-* transmission headers
/// sign this event for this webhook. PayPal signs with a certificate it rotates; asking it avoids
/// fetching and pinning certificates here.
public struct PayPalWebhookVerifier: Sendable {
  private let webhookID: String
  private let accessToken: PayPalAccessToken
  private let transport: GatewayTransport

  public init(
    baseURL: String, clientID: String, clientSecret: String, webhookID: String, http: HTTPClient,
    timeout: Duration = .seconds(30)
  ) {
    self.webhookID = webhookID
    accessToken = PayPalAccessToken(clientID: clientID, clientSecret: clientSecret)
    transport = GatewayTransport(
      gateway: .paypal, baseURL: baseURL, http: http, timeout: timeout,
      secrets: [clientSecret, accessToken.basicCredentials])
  }

  /// How far a transmission time may be from now: PayPal delivers at once and retries with new
  /// transmissions, so an older one is a replay or a forgery.
  public static let tolerance: TimeInterval = 300

  /// The checks that need no call to PayPal.
  static func plausible(
    algo: String, certURL: String, transmissionID: String, signature: String, time: String, now: Date
  ) -> Bool {
    guard algo == "SHA256withRSA", transmissionID.utf8.count <= 128, signature.utf8.count <= 4096 else { return false }
    guard let cert = URLComponents(string: certURL), cert.scheme == "https", let host = cert.host?.lowercased(),
      host == "paypal.com" || host.hasSuffix(".paypal.com")
    else { return false }
    let parser = ISO8601DateFormatter()
    parser.formatOptions = [.withInternetDateTime]
    let fractional = ISO8601DateFormatter()
    fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    guard let sent = parser.date(from: time) ?? fractional.date(from: time) else { return false }
    return abs(sent.timeIntervalSince(now)) <= tolerance
  }

  private struct Fields: Encodable {
    var authAlgo: String
    var certUrl: String
    var transmissionId: String
    var transmissionSig: String
    var transmissionTime: String
    var webhookId: String
  }

  private struct Answer: Decodable {
    var verificationStatus: String
  }

  /// True iff PayPal answers SUCCESS. A delivery missing a header, or whose body is not a JSON
  /// object, is false without asking; PayPal unreachable is `.transient` (answer 5xx so PayPal
  /// delivers again later).
  ///
  /// Asking PayPal costs an outbound call, so anyone able to POST could make us call PayPal at
  /// will: every check that needs no call comes first, and a delivery failing one (a stale or
  /// unreadable transmission time, another algorithm, a certificate not on PayPal's https hosts,
  /// oversized headers) is false at once. `now` is the receiver's clock.
  public func verify(headers: [String: String], body: Data, now: Date = Date()) async throws(PaymentError) -> Bool {
    let header = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }) { first, _ in first }
    guard let algo = header["paypal-auth-algo"], let certURL = header["paypal-cert-url"],
      let transmissionID = header["paypal-transmission-id"], let signature = header["paypal-transmission-sig"],
      let time = header["paypal-transmission-time"],
      Self.plausible(
        algo: algo, certURL: certURL, transmissionID: transmissionID, signature: signature, time: time, now: now),
      (try? JSONSerialization.jsonObject(with: body)) is [String: Any]
    else { return false }
    let fields = try GatewayJSON.encode(
      Fields(
        authAlgo: algo, certUrl: certURL, transmissionId: transmissionID, transmissionSig: signature,
        transmissionTime: time, webhookId: webhookID))
    // The event goes in byte for byte as it arrived: PayPal's check covers the event as it was
    // sent, and re-encoding it (key order, number forms) could fail a genuine delivery.
    let request = Array(fields.dropLast()) + Array(#","webhook_event":"#.utf8) + Array(body) + Array("}".utf8)
    let (outbound, response) = try await transport.sendAuthorized(accessToken) { token in
      transport.request(
        "POST", "/v1/notifications/verify-webhook-signature",
        headers: [
          ("Authorization", "Bearer \(token)"), ("Content-Type", "application/json"), ("Accept", "application/json"),
        ], body: request)
    }
    guard (200..<300).contains(response.status), let answer = GatewayJSON.decode(Answer.self, response) else {
      throw transport.failure(response, outbound, detail: "the signature check failed")
    }
    return answer.verificationStatus == "SUCCESS"
  }
}
