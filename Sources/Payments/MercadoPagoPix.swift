import Foundation
import OutboundHTTP

/// A PIX code Mercado Pago made for a payment: the buyer pays it from their bank's app before it
/// expires, and Mercado Pago's `payment` notification says when it is paid (approved) or expired
/// (cancelled, status_detail expired).
public struct PixCode: Sendable, Equatable {
  public var paymentID: String
  /// `point_of_interaction.transaction_data.qr_code`: the copy-and-paste code.
  public var qrCode: String
  /// `point_of_interaction.transaction_data.qr_code_base64`: the same as a PNG.
  public var qrCodeBase64: String
  public var expiresAt: Date?
}

/// A PIX payment to ask Mercado Pago for; the key makes a retried request answer the same code.
public struct PixRequest: Sendable, Equatable {
  public var amountCents: Int
  public var payerEmail: String
  public var description: String
  /// Ours (`purchase-<id>`), read back from the payment its notification names.
  public var reference: String
  public var idempotencyKey: String
  /// When the code stops being payable (Mercado Pago's default is 24 hours).
  public var expiresAt: Date

  public init(
    amountCents: Int, payerEmail: String, description: String, reference: String, idempotencyKey: String,
    expiresAt: Date
  ) {
    self.amountCents = amountCents
    self.payerEmail = payerEmail
    self.description = description
    self.reference = reference
    self.idempotencyKey = idempotencyKey
    self.expiresAt = expiresAt
  }
}

extension MercadoPagoGateway {
  /// `POST /v1/payments` with `payment_method_id: pix`: the code to show the buyer.
  public func createPix(_ request: PixRequest) async throws(PaymentError) -> PixCode {
    struct Body: Encodable {
      struct Payer: Encodable { var email: String }
      var transactionAmount: Decimal
      var description: String
      var paymentMethodId = "pix"
      var payer: Payer
      var externalReference: String
      var dateOfExpiration: String
      var metadata: [String: String]
    }
    struct Answer: Decodable {
      struct Point: Decodable {
        struct Data: Decodable {
          var qrCode: String?
          var qrCodeBase64: String?
        }
        var transactionData: Data?
      }
      var id: Int64
      var status: String
      var dateOfExpiration: String?
      var pointOfInteraction: Point?
    }
    guard request.amountCents > 0, !request.payerEmail.isEmpty, !request.idempotencyKey.isEmpty else {
      throw .rejected("\(request.reference): a PIX payment needs a positive amount, the payer's e-mail and a key")
    }
    let body = Body(
      transactionAmount: Money.decimal(cents: request.amountCents), description: request.description,
      payer: .init(email: request.payerEmail), externalReference: request.reference,
      dateOfExpiration: Self.expiry(request.expiresAt), metadata: ["idempotency_key": request.idempotencyKey])
    guard let answer = try await createPending(body, idempotencyKey: request.idempotencyKey, as: Answer.self),
      let data = answer.pointOfInteraction?.transactionData, let code = data.qrCode, !code.isEmpty
    else {
      throw .transient("Mercado Pago answered the PIX payment of \(request.reference) without a QR code")
    }
    return PixCode(
      paymentID: String(answer.id), qrCode: code, qrCodeBase64: data.qrCodeBase64 ?? "",
      expiresAt: Self.expiry(answer.dateOfExpiration) ?? request.expiresAt)
  }
}
