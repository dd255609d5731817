/// One charge of one invoice, as the billing job asks for it.
public struct ChargeRequest: Sendable, Equatable {
  /// WHAGO's invoice; sent along (Stripe `metadata[invoice]`, Mercado Pago `external_reference`,
  /// PayPal `reference_id`) so a payment can be traced back from the gateway's dashboard.
  public var invoiceID: Int64
  /// In the currency's minor unit (centavos for BRL).
  public var amountCents: Int
  /// ISO 4217, e.g. "BRL".
  public var currency: String
  /// The gateway's customer (Stripe `cus_…`, Mercado Pago customer id, PayPal: our own reference).
  public var customer: String
  /// The saved instrument (Stripe `pm_…`, Mercado Pago card token, PayPal vault id).
  public var paymentMethod: String
  /// Sent as Stripe `Idempotency-Key`, Mercado Pago `X-Idempotency-Key`, PayPal `PayPal-Request-Id`.
  /// One key per charge attempt: a retry after a transient error reuses it, a new attempt does not.
  public var idempotencyKey: String
  /// What the customer sees on the statement or receipt.
  public var description: String
  /// How the gateway's dashboard names what was paid: `invoice-<id>`, or `purchase-<id>` for a
  /// credit pack (then `invoiceID` is the purchase's id, and no invoice metadata is sent).
  public var reference: String

  /// Whether this charges an invoice (renewal or upgrade) rather than a purchase.
  public var isInvoice: Bool { reference == "invoice-\(invoiceID)" }

  public init(
    invoiceID: Int64, amountCents: Int, currency: String = "BRL", customer: String, paymentMethod: String,
    idempotencyKey: String, description: String, reference: String? = nil
  ) {
    self.reference = reference ?? "invoice-\(invoiceID)"
    self.invoiceID = invoiceID
    self.amountCents = amountCents
    self.currency = currency
    self.customer = customer
    self.paymentMethod = paymentMethod
    self.idempotencyKey = idempotencyKey
    self.description = description
  }

  /// What no gateway would accept, caught before anything is sent.
  func validate() throws(PaymentError) {
    var problems: [String] = []
    if amountCents <= 0 { problems.append("amount must be positive") }
    if currency.count != 3 { problems.append("currency must be an ISO 4217 code like BRL") }
    if idempotencyKey.isEmpty || idempotencyKey.utf8.count > 255 {
      problems.append("idempotency key must have 1 to 255 characters")
    }
    if customer.isEmpty { problems.append("customer is empty") }
    if paymentMethod.isEmpty { problems.append("payment method is empty") }
    if !problems.isEmpty { throw .rejected("\(reference): " + problems.joined(separator: "; ")) }
  }
}

/// What a gateway did with a charge it answered.
public enum ChargeOutcome: Sendable, Equatable {
  /// The money was taken; `paymentID` is the gateway's id of the payment (Stripe PaymentIntent,
  /// Mercado Pago payment, PayPal capture).
  case succeeded(paymentID: String)
  /// The issuer or the gateway said no. `hard`: retrying cannot succeed (lost or stolen card, fraud,
  /// "do not try again"), so the job must not retry and must ask the customer for another card.
  case declined(paymentID: String?, code: String?, advice: String?, hard: Bool)
  /// The customer must authenticate (3-D Secure) before the charge can go through; retrying without
  /// them only declines again, so the job asks the customer to pay in person.
  case requiresAction(paymentID: String?)
}
