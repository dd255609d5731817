/// The payment gateways WHAGO bills through. A tenant's invoices go to the one it signed up with.
public enum Gateway: String, Sendable, CaseIterable {
  case stripe, mercadopago, paypal
}

/// What the billing job asks of a gateway: charge a saved payment method once, off-session.
///
/// Each adapter maps its gateway's answers onto the same three outcomes and two errors, so the job
/// decides retries, dunning and customer notices without knowing which gateway it talks to.
public protocol PaymentGateway: Sendable {
  var gateway: Gateway { get }

  /// Charges `request.amountCents` to the saved `request.paymentMethod`.
  ///
  /// The gateway sees `request.idempotencyKey`, so calling again with the same request after a
  /// `.transient` error can never charge twice: the gateway answers what it did the first time.
  func charge(_ request: ChargeRequest) async throws(PaymentError) -> ChargeOutcome

  /// What became of the charge made with `request.idempotencyKey`, asked of the gateway's records
  /// rather than its idempotency cache: nil when no charge under that key exists. Used before a
  /// key is sent again once the gateway may have forgotten it (older than its window) or stored an
  /// answer that is not an outcome, so a charge made long ago is found instead of made again.
  /// Throws `.uncertain` while the charge is still processing.
  func lookUp(_ request: ChargeRequest) async throws(PaymentError) -> ChargeOutcome?
}
