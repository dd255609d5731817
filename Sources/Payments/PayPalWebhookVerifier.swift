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
  public func verify(headers: [String: String], body: Data) async throws(PaymentError) -> Bool {
    let header = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }) { first, _ in first }
    guard let algo = header["paypal-auth-algo"], let certURL = header["paypal-cert-url"],
      let transmissionID = header["paypal-transmission-id"], let signature = header["paypal-transmission-sig"],
      let time = header["paypal-transmission-time"],
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
