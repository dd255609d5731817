import Foundation
import OutboundHTTP

/// Who pays a boleto: Mercado Pago registers the slip in the payer's name, CPF and address.
public struct BoletoPayer: Sendable, Equatable, Encodable {
  public struct Address: Sendable, Equatable, Encodable {
    public var zipCode: String
    public var streetName: String
    public var streetNumber: String
    public var neighborhood: String
    public var city: String
    /// The state, two letters (SP, RJ, …).
    public var federalUnit: String

    public init(
      zipCode: String, streetName: String, streetNumber: String, neighborhood: String, city: String,
      federalUnit: String
    ) {
      self.zipCode = zipCode
      self.streetName = streetName
      self.streetNumber = streetNumber
      self.neighborhood = neighborhood
      self.city = city
      self.federalUnit = federalUnit
    }
  }

  public var email: String
  public var firstName: String
  public var lastName: String
  /// Eleven digits.
  public var cpf: String
  public var address: Address

  public init(email: String, firstName: String, lastName: String, cpf: String, address: Address) {
    self.email = email
    self.firstName = firstName
    self.lastName = lastName
    self.cpf = cpf
    self.address = address
  }
}

/// A boleto Mercado Pago registered: the buyer pays it at a bank or online until it expires, and
/// Mercado Pago's `payment` notification says when it was paid (approved) or expired (cancelled).
public struct BoletoSlip: Sendable, Equatable {
  public var paymentID: String
  /// `transaction_details.external_resource_url`: the slip to print or pay online.
  public var url: String
  /// `barcode.content`: the digits a banking app reads.
  public var barcode: String
  public var expiresAt: Date?
}

extension MercadoPagoGateway {
  /// `POST /v1/payments` with `payment_method_id: bolbradesco`: the slip to show the buyer,
  /// under `idempotencyKey` (a retried request answers the same slip).
  public func createBoleto(
    amountCents: Int, payer: BoletoPayer, description: String, reference: String, idempotencyKey: String,
    expiresAt: Date
  ) async throws(PaymentError) -> BoletoSlip {
    struct Body: Encodable {
      struct Payer: Encodable {
        struct Identification: Encodable {
          var type = "CPF"
          var number: String
        }
        var email: String
        var firstName: String
        var lastName: String
        var identification: Identification
        var address: BoletoPayer.Address
      }
      var transactionAmount: Decimal
      var description: String
      var paymentMethodId = "bolbradesco"
      var payer: Payer
      var externalReference: String
      var dateOfExpiration: String
      var metadata: [String: String]
    }
    struct Answer: Decodable {
      struct Details: Decodable { var externalResourceUrl: String? }
      struct Barcode: Decodable { var content: String? }
      var id: Int64
      var dateOfExpiration: String?
      var transactionDetails: Details?
      var barcode: Barcode?
    }
    guard amountCents > 0, !idempotencyKey.isEmpty else {
      throw .rejected("\(reference): a boleto needs a positive amount and a key")
    }
    let body = Body(
      transactionAmount: Money.decimal(cents: amountCents), description: description,
      payer: .init(
        email: payer.email, firstName: payer.firstName, lastName: payer.lastName,
        identification: .init(number: payer.cpf), address: payer.address),
      externalReference: reference, dateOfExpiration: Self.expiry(expiresAt),
      metadata: ["idempotency_key": idempotencyKey])
    guard let answer = try await createPending(body, idempotencyKey: idempotencyKey, as: Answer.self),
      let url = answer.transactionDetails?.externalResourceUrl
    else {
      throw .transient("Mercado Pago answered the boleto of \(reference) without its slip")
    }
    return BoletoSlip(
      paymentID: String(answer.id), url: url, barcode: answer.barcode?.content ?? "",
      expiresAt: Self.expiry(answer.dateOfExpiration) ?? expiresAt)
  }
}
