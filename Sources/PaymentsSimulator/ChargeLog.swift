import Synchronization

/// One charge the simulated gateway actually made: once per idempotency key, whatever its outcome,
/// never for a replay or a refused request. Tests count "charged exactly once" straight from it.
public struct ChargeRecord: Codable, Sendable, Equatable {
  /// stripe, mercadopago or paypal.
  public var gateway: String
  public var customer: String
  /// In cents.
  public var amount: Int
  /// Nil for a charge the gateway made by itself (a Mercado Pago subscription's).
  public var idempotency_key: String?
  /// succeeded, declined, requires_action, or pending (Mercado Pago under review).
  public var outcome: String
  public var payment_id: String?
  /// WHAGO's reference as the gateway received it (Stripe `metadata[invoice]`, Mercado Pago
  /// `external_reference`, PayPal `reference_id`), and the description: what reconciliation reads.
  public var reference: String?
  public var description: String?
  /// Milliseconds since 1970.
  public var time: Int
}

final class ChargeLog: Sendable {
  private let records = Mutex<[ChargeRecord]>([])

  func append(_ record: ChargeRecord) { records.withLock { $0.append(record) } }
  func all() -> [ChargeRecord] { records.withLock { $0 } }
  func clear() { records.withLock { $0.removeAll() } }
}
