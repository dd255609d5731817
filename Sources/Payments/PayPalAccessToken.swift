import Foundation
import OutboundHTTP
import Synchronization

/// PayPal's OAuth 2 client-credentials token (`POST /v1/oauth2/token`), fetched when first needed
/// and reused until a minute before `expires_in` runs out: PayPal rate-limits token requests, and
/// one token serves every call for hours. Copies of a gateway share one cache.
final class PayPalAccessToken: Sendable {
  private struct Cached {
    var token: String
    var expires: ContinuousClock.Instant
  }

  private struct TokenAnswer: Decodable {
    var accessToken: String
    var expiresIn: Int?
  }

  private let clientID: String
  private let clientSecret: String
  private let cached = Mutex<Cached?>(nil)

  init(clientID: String, clientSecret: String) {
    self.clientID = clientID
    self.clientSecret = clientSecret
  }

  /// `Basic base64(clientID:clientSecret)`, itself a secret.
  var basicCredentials: String { Data("\(clientID):\(clientSecret)".utf8).base64EncodedString() }

  /// A valid token, from the cache or freshly issued.
  func token(_ transport: GatewayTransport) async throws(PaymentError) -> String {
    let now = ContinuousClock.now
    if let cached = cached.withLock({ $0 }), cached.expires > now { return cached.token }
    let request = transport.request(
      "POST", "/v1/oauth2/token",
      headers: [
        ("Authorization", "Basic \(basicCredentials)"), ("Content-Type", "application/x-www-form-urlencoded"),
        ("Accept", "application/json"),
      ], body: Array("grant_type=client_credentials".utf8))
    let response = try await transport.send(request)
    guard (200..<300).contains(response.status), let answer = GatewayJSON.decode(TokenAnswer.self, response) else {
      throw transport.failure(
        response, request, detail: "the OAuth token request failed (check the client id and secret)")
    }
    // A minute's margin, so a token never expires between this check and PayPal reading it.
    let lifetime = max(0, (answer.expiresIn ?? 0) - 60)
    cached.withLock { $0 = Cached(token: answer.accessToken, expires: now + .seconds(lifetime)) }
    return answer.accessToken
  }

  /// Forgets the token (PayPal refused it: revoked or expired early), so the next call gets a new one.
  func invalidate() {
    cached.withLock { $0 = nil }
  }
}

extension GatewayTransport {
  /// Sends `build(token)` with a PayPal access token; if PayPal refuses a cached token (401), fetches a
  /// new one and sends once more. Safe to repeat: the request's PayPal-Request-Id is unchanged.
  func sendAuthorized(
    _ accessToken: PayPalAccessToken, _ build: (String) -> OutboundRequest
  ) async throws(PaymentError) -> (OutboundRequest, OutboundResponse) {
    var request = build(try await accessToken.token(self))
    var response = try await send(request)
    if response.status == 401 {
      accessToken.invalidate()
      request = build(try await accessToken.token(self))
      response = try await send(request)
    }
    return (request, response)
  }
}
