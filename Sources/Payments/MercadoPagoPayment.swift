import Foundation
import OutboundHTTP

/// A Mercado Pago payment as `GET /v1/payments/{id}` reads it: what a webhook is about. Its
/// notification carries only the id, so the receiver asks Mercado Pago itself, with our token.
public struct MercadoPagoPayment: Sendable, Equatable {
  public var id: String
  /// approved, rejected, pending, in_process, refunded, …
  public var status: String
  public var statusDetail: String?
  /// Ours (`invoice-<id>`) for a charge we made; the preapproval id for one Mercado Pago made itself.
  public var externalReference: String?
  public var preapprovalID: String?
  public var amountCents: Int?
  /// Our idempotency key for the attempt, for a charge we made (metadata).
  public var attemptKey: String? = nil
}

extension MercadoPagoGateway {
  public func payment(id: String) async throws(PaymentError) -> MercadoPagoPayment {
    struct Answer: Decodable {
      struct ID: Decodable {
        var text: String
        init(from decoder: any Decoder) throws {
          let c = try decoder.singleValueContainer()
          if let text = try? c.decode(String.self) {
            self.text = text
          } else {
            text = String(try c.decode(Int64.self))
          }
        }
      }
      var id: ID
      var status: String
      var statusDetail: String?
      var externalReference: String?
      var metadata: [String: Lenient]?
      var transactionAmount: Double?
    }
    /// Metadata values may be any JSON; only strings (and numbers, as text) matter here.
    struct Lenient: Decodable {
      var text: String?
      init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        text = (try? c.decode(String.self)) ?? (try? c.decode(Double.self)).map { String($0) }
      }
    }
    let digits = id.filter { $0.isLetter || $0.isNumber }
    let outbound = transport.request(
      "GET", "/v1/payments/\(digits)",
      headers: [("Authorization", "Bearer \(accessToken)"), ("Accept", "application/json")], body: nil)
    let response = try await transport.send(outbound)
    guard (200..<300).contains(response.status) else {
      throw transport.failure(response, outbound, detail: "looking up payment \(digits)")
    }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    guard let answer = try? decoder.decode(Answer.self, from: Data(response.body)) else {
      throw .transient("Mercado Pago answered payment \(digits) with an unexpected body")
    }
    return MercadoPagoPayment(
      id: answer.id.text, status: answer.status, statusDetail: answer.statusDetail,
      externalReference: answer.externalReference, preapprovalID: answer.metadata?["preapproval_id"]?.text,
      amountCents: answer.transactionAmount.map { Int(($0 * 100).rounded()) },
      attemptKey: answer.metadata?["idempotency_key"]?.text)
  }
}
