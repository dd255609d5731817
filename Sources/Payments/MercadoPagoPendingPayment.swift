import Foundation
import OutboundHTTP

/// The part PIX and boleto share: a `POST /v1/payments` the buyer completes later, sent under our
/// key (a retried request answers the same payment), refused or answered in Mercado Pago's shapes,
/// with its expiry written and read as Mercado Pago writes it (ISO 8601 with milliseconds).
extension MercadoPagoGateway {
  func createPending<Answer: Decodable>(
    _ body: some Encodable, idempotencyKey: String, as: Answer.Type
  ) async throws(PaymentError) -> Answer? {
    let outbound = transport.request(
      "POST", "/v1/payments",
      headers: [
        ("Authorization", "Bearer \(accessToken)"), ("X-Idempotency-Key", idempotencyKey),
        ("Content-Type", "application/json"), ("Accept", "application/json"),
      ], body: try GatewayJSON.encode(body))
    let response = try await transport.send(outbound)
    guard (200..<300).contains(response.status) else {
      let error = GatewayJSON.decode(MercadoPagoAnswer.ErrorBody.self, response)
      throw transport.failure(
        response, outbound, detail: error.map { [$0.error, $0.message].compactMap { $0 }.joined(separator: ": ") })
    }
    return GatewayJSON.decode(Answer.self, response)
  }

  static func expiry(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: date)
  }

  static func expiry(_ text: String?) -> Date? {
    guard let text else { return nil }
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text)
  }
}
