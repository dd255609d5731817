import CampaignStore
import Foundation
import Postgres
import Store
import Wire

/// Where a credit pack purchase stands.
public enum CreditPurchaseStatus: String, PostgresState, Sendable {
  /// Just asked for: its card charge (or its PIX code) is being made.
  case pending
  /// A PIX code or a boleto waits to be paid until `expires_at`.
  case awaitingPayment = "awaiting_payment"
  /// Paid, and its credits granted (once).
  case paid
  /// The card was declined, or the gateway refused the charge.
  case failed
  /// The PIX code or boleto expired unpaid: nothing granted.
  case expired
  /// Paid, then refunded: its unspent credits were removed.
  case refunded
  /// Paid, then disputed by the buyer's bank: its unspent credits were removed.
  case chargedBack = "charged_back"
}

/// How a purchase is paid: a saved card, charged at once, or a PIX code or a boleto (Mercado Pago)
/// the buyer pays later.
public enum CreditPurchaseMethod: String, PostgresState, Sendable {
  case card, pix, boleto
}

/// A credit pack bought through a gateway.
public struct CreditPurchase: Sendable, Equatable, Codable {
  public struct Pix: Sendable, Equatable, Codable {
    /// The copy-and-paste code (`point_of_interaction.transaction_data.qr_code`).
    public var qrCode: String
    /// The QR code as a base64 PNG (`qr_code_base64`).
    public var qrCodeBase64: String
    public var expiresAt: Date?
  }

  public struct Boleto: Sendable, Equatable, Codable {
    /// The slip to print or pay online (`transaction_details.external_resource_url`).
    public var url: String
    /// The digits a banking app reads (`barcode.content`).
    public var barcode: String
    public var expiresAt: Date?
  }

  public var id: Int64
  public var pack: String
  public var credits: Int
  public var amountCents: Int
  public var currency: String
  public var gateway: String
  public var method: CreditPurchaseMethod
  public var status: CreditPurchaseStatus
  @ExplicitNull public var gatewayPaymentId: String?
  @ExplicitNull public var failure: String?
  @ExplicitNull public var pix: Pix?
  @ExplicitNull public var boleto: Boleto?
  public var createdAt: Date
  @ExplicitNull public var paidAt: Date?
  /// After a refund or chargeback: the pack's credits removed, and those already spent (reported
  /// to the operator, not clawed back).
  @ExplicitNull public var creditsRemoved: Int?
  @ExplicitNull public var creditsSpent: Int?
}

/// What a new purchase asks for. `requestKey` is the client's Idempotency-Key: the same key
/// answers the purchase it first made, whatever the body, as a job submission's key does.
public struct NewCreditPurchase: Sendable {
  public var tenantID: TenantID
  public var pack: String
  public var gateway: String
  public var method: CreditPurchaseMethod
  public var customer: String
  public var paymentMethod: String?
  public var requestKey: String?

  public init(
    tenantID: TenantID, pack: String, gateway: String, method: CreditPurchaseMethod, customer: String,
    paymentMethod: String?, requestKey: String?
  ) {
    self.tenantID = tenantID
    self.pack = pack
    self.gateway = gateway
    self.method = method
    self.customer = customer
    self.paymentMethod = paymentMethod
    self.requestKey = requestKey
  }
}

/// The card charge of a purchase, as its job makes it: always under the purchase's own key.
public struct CreditPurchaseCharge: Sendable, Equatable {
  public var purchaseID: Int64
  public var tenant: String
  public var amountCents: Int
  public var currency: String
  public var gateway: String
  public var customer: String
  public var paymentMethod: String
  public var idempotencyKey: String
  public var pack: String
}

/// The PIX code or boleto of a purchase, as the route asks Mercado Pago for it.
public struct CreditPurchasePayerRequest: Sendable, Equatable {
  public var purchaseID: Int64
  public var amountCents: Int
  public var payerEmail: String
  public var idempotencyKey: String
  public var pack: String
}

public enum CreditPurchaseError: Error, CustomStringConvertible, Equatable {
  case unknownPack(String, known: [String])

  public var description: String {
    switch self {
    case .unknownPack(let pack, let known):
      "no credit pack '\(pack)'; packs on sale: \(known.joined(separator: ", "))"
    }
  }
}

extension Store {
  static let purchaseColumns = """
    id, pack, credits, amount_cents, currency, gateway, method, status, gateway_payment_id, failure,
    pix_qr_code, pix_qr_code_base64, boleto_url, boleto_barcode, expires_at, created_at, paid_at, credits_removed,
    credits_spent
    """

  static func purchase(_ row: PostgresRow) throws -> CreditPurchase {
    let qr: String? = try row.decodeIfPresent("pix_qr_code")
    let slip: String? = try row.decodeIfPresent("boleto_url")
    return CreditPurchase(
      id: try row.decode("id"), pack: try row.decode("pack"), credits: try row.decode("credits"),
      amountCents: try row.decode("amount_cents"), currency: try row.decode("currency"),
      gateway: try row.decode("gateway"), method: try row.decode("method"), status: try row.decode("status"),
      gatewayPaymentId: try row.decodeIfPresent("gateway_payment_id"), failure: try row.decodeIfPresent("failure"),
      pix: try qr.map {
        CreditPurchase.Pix(
          qrCode: $0, qrCodeBase64: try row.decodeIfPresent("pix_qr_code_base64") ?? "",
          expiresAt: try row.decodeIfPresent("expires_at"))
      },
      boleto: try slip.map {
        CreditPurchase.Boleto(
          url: $0, barcode: try row.decodeIfPresent("boleto_barcode") ?? "",
          expiresAt: try row.decodeIfPresent("expires_at"))
      }, createdAt: try row.decode("created_at"), paidAt: try row.decodeIfPresent("paid_at"),
      creditsRemoved: try row.decodeIfPresent("credits_removed"), creditsSpent: try row.decodeIfPresent("credits_spent")
    )
  }

  /// Creates a purchase of `pack` at its price now, or answers the one already made under the same
  /// request key (`created` false). The gateway key is fixed here, before any gateway is called.
  public func createCreditPurchase(_ new: NewCreditPurchase) async throws -> (CreditPurchase, created: Bool) {
    try await pool.transaction { connection in
      if let key = new.requestKey, let existing = try Self.purchase(connection, tenantID: new.tenantID, requestKey: key)
      {
        return (existing, false)
      }
      let offer = try connection.query(
        "SELECT credits, price_cents FROM credit_pack_offers WHERE id = $1", [new.pack])
      guard let offer = offer.first else {
        let known = try connection.query("SELECT id FROM credit_pack_offers ORDER BY price_cents").rows
          .map { try $0.decode("id", as: String.self) }
        throw CreditPurchaseError.unknownPack(new.pack, known: known)
      }
      let inserted = try connection.query(
        """
        INSERT INTO credit_purchases (tenant_id, pack, credits, amount_cents, gateway, method, customer,
          payment_method, idempotency_key, request_key)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (tenant_id, request_key) DO NOTHING
        RETURNING \(Self.purchaseColumns)
        """,
        [
          new.tenantID, new.pack, try offer.decode("credits", as: Int.self),
          try offer.decode("price_cents", as: Int.self),
          new.gateway, new.method, new.customer, new.paymentMethod,
          "whago-purchase-\(UUID().uuidString.lowercased())", new.requestKey,
        ])
      if let row = inserted.first { return (try Self.purchase(row), true) }
      // The same request key, inserted by a concurrent request a moment ago.
      guard let key = new.requestKey,
        let existing = try Self.purchase(connection, tenantID: new.tenantID, requestKey: key)
      else { throw PostgresError(.decode, "credit purchase neither inserted nor found") }
      return (existing, false)
    }
  }

  private static func purchase(
    _ connection: PostgresConnection, tenantID: TenantID, requestKey: String
  ) throws -> CreditPurchase? {
    try connection.query(
      "SELECT \(purchaseColumns) FROM credit_purchases WHERE tenant_id = $1 AND request_key = $2",
      [tenantID, requestKey]
    ).first.map(Self.purchase)
  }

  /// One of the tenant's purchases; nil for another tenant's or none.
  public func creditPurchase(id: Int64, tenantID: TenantID) async throws -> CreditPurchase? {
    try await pool.query(
      "SELECT \(Self.purchaseColumns) FROM credit_purchases WHERE id = $1 AND tenant_id = $2", [id, tenantID]
    ).first.map(Self.purchase)
  }

  /// The tenant's purchases, newest first.
  public func creditPurchases(tenantID: TenantID, limit: Int = 100) async throws -> [CreditPurchase] {
    try await pool.query(
      "SELECT \(Self.purchaseColumns) FROM credit_purchases WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2",
      [tenantID, limit]
    ).rows.map(Self.purchase)
  }

  /// Card purchases still pending a minute after they were made (by PostgreSQL's clock, which
  /// stamped them): their `credits.purchase` job was never enqueued (the request failed after the
  /// row was written) or was lost. The sweep enqueues them again, under their unique key.
  public func unchargedCardPurchases(limit: Int = 1000) async throws -> [(purchaseID: Int64, tenant: String)] {
    try await pool.query(
      """
      SELECT p.id, t.name FROM credit_purchases p JOIN tenants t ON t.id = p.tenant_id
      WHERE p.method = 'card' AND p.status = 'pending' AND p.created_at <= now() - interval '1 minute'
      ORDER BY p.id LIMIT $1
      """, [limit]
    ).rows.map { (try $0.decode("id"), try $0.decode("name")) }
  }

  /// The card charge a pending card purchase still needs; nil once it is settled.
  public func pendingCardCharge(purchaseID: Int64) async throws -> CreditPurchaseCharge? {
    try await pool.query(
      """
      SELECT p.id, t.name, p.amount_cents, p.currency, p.gateway, p.customer, p.payment_method, p.idempotency_key, p.pack
      FROM credit_purchases p JOIN tenants t ON t.id = p.tenant_id
      WHERE p.id = $1 AND p.method = 'card' AND p.status = 'pending'
      """, [purchaseID]
    ).first.map { row in
      CreditPurchaseCharge(
        purchaseID: try row.decode("id"), tenant: try row.decode("name"), amountCents: try row.decode("amount_cents"),
        currency: try row.decode("currency"), gateway: try row.decode("gateway"), customer: try row.decode("customer"),
        paymentMethod: try row.decode("payment_method"), idempotencyKey: try row.decode("idempotency_key"),
        pack: try row.decode("pack"))
    }
  }

  /// The PIX code or boleto a pending purchase still needs (the same key every time it is asked).
  public func pendingPayerRequest(purchaseID: Int64) async throws -> CreditPurchasePayerRequest? {
    try await pool.query(
      """
      SELECT id, amount_cents, customer, idempotency_key, pack FROM credit_purchases
      WHERE id = $1 AND method IN ('pix', 'boleto') AND status = 'pending'
      """, [purchaseID]
    ).first.map { row in
      CreditPurchasePayerRequest(
        purchaseID: try row.decode("id"), amountCents: try row.decode("amount_cents"),
        payerEmail: try row.decode("customer"), idempotencyKey: try row.decode("idempotency_key"),
        pack: try row.decode("pack"))
    }
  }

  /// The PIX code Mercado Pago made: the purchase waits for its payment.
  public func recordPixCode(
    purchaseID: Int64, gatewayPaymentID: String, qrCode: String, qrCodeBase64: String, expiresAt: Date?
  ) async throws {
    try await pool.query(
      """
      UPDATE credit_purchases SET status = 'awaiting_payment', gateway_payment_id = $2, pix_qr_code = $3,
        pix_qr_code_base64 = $4, expires_at = $5, updated_at = now()
      WHERE id = $1 AND status = 'pending'
      """, [purchaseID, gatewayPaymentID, qrCode, qrCodeBase64, expiresAt])
  }

  /// The boleto Mercado Pago registered: the purchase waits for its payment.
  public func recordBoleto(
    purchaseID: Int64, gatewayPaymentID: String, url: String, barcode: String, expiresAt: Date?
  ) async throws {
    try await pool.query(
      """
      UPDATE credit_purchases SET status = 'awaiting_payment', gateway_payment_id = $2, boleto_url = $3,
        boleto_barcode = $4, expires_at = $5, updated_at = now()
      WHERE id = $1 AND status = 'pending'
      """, [purchaseID, gatewayPaymentID, url, barcode, expiresAt])
  }

  /// The card charge's outcome. Paid grants the pack's credits once; anything else fails the
  /// purchase (`credits.purchase_failed`). Returns the campaigns the credits resumed.
  public func settleCreditPurchase(purchaseID: Int64, result: ChargeResult) async throws -> [CampaignLaunch] {
    let outcome: PurchaseOutcome =
      switch result {
      case .succeeded(let id): .paid(paymentID: id)
      case .declined(_, let code, _, _): .failed("declined" + (code.map { ": \($0)" } ?? ""))
      case .requiresAction: .failed("the card needs the buyer's authentication; pay by PIX or with another card")
      case .error(let message): .failed(message)
      }
    return try await pool.transaction { connection in
      try Self.settlePurchase(connection, purchaseID: purchaseID, outcome).resumed
    }
  }

  /// A gateway's word on a purchase's payment (a Mercado Pago notification read back): approved
  /// pays it, rejected fails it, cancelled (an expired PIX code) expires it; recorded with the
  /// delivery in one transaction. Money taken always grants the credits, even after an expiry.
  public func settleCreditPurchasePayment(
    purchaseID: Int64, gatewayPaymentID: String, status: String, detail: String?, delivery: GatewayDelivery
  ) async throws -> DeliveryEffect {
    try await pool.transaction { connection in
      guard try Self.firstDelivery(connection, delivery) else { return DeliveryEffect(.duplicate) }
      let outcome: PurchaseOutcome? =
        switch status {
        case "approved": .paid(paymentID: gatewayPaymentID)
        case "rejected": .failed("declined" + (detail.map { ": \($0)" } ?? ""))
        case "cancelled", "expired": .expired
        case "refunded": .reversed(.refunded)
        case "charged_back": .reversed(.chargedBack)
        default: nil
        }
      guard let outcome else { return DeliveryEffect(.recorded) }
      let (changed, resumed) = try Self.settlePurchase(connection, purchaseID: purchaseID, outcome)
      return DeliveryEffect(changed ? .applied : .recorded, resumed: resumed)
    }
  }

  enum PurchaseOutcome {
    case paid(paymentID: String)
    case failed(String)
    case expired
    case reversed(CreditPurchaseStatus)
  }

  /// Applies `outcome` to the purchase, locked; returns whether it changed and the campaigns resumed.
  @discardableResult
  static func settlePurchase(
    _ connection: PostgresConnection, purchaseID: Int64, _ outcome: PurchaseOutcome
  ) throws -> (changed: Bool, resumed: [CampaignLaunch]) {
    let rows = try connection.query(
      "SELECT tenant_id, pack, credits, amount_cents, status FROM credit_purchases WHERE id = $1 FOR UPDATE",
      [purchaseID])
    guard let row = rows.first else { return (false, []) }
    let status: CreditPurchaseStatus = try row.decode("status")
    let tenantID: TenantID = try row.decode("tenant_id")
    let pack: String = try row.decode("pack")
    if case .reversed(let how) = outcome {
      guard status == .paid else { return (false, []) }
      try Self.reverse(connection, purchaseID: purchaseID, tenantID: tenantID, pack: pack, as: how)
      return (true, [])
    }
    if status != .pending && status != .awaitingPayment && status != .failed && status != .expired {
      return (false, [])
    }
    let (next, reason): (CreditPurchaseStatus, String)
    switch outcome {
    case .paid(let paymentID):
      let granted = try Self.grantPack(
        connection, tenantID: tenantID, credits: try row.decode("credits"), priceCents: try row.decode("amount_cents"),
        reference: "purchase-\(purchaseID)", extra: ["pack": .string(pack), "purchase_id": .int(purchaseID)])
      try connection.query(
        """
        UPDATE credit_purchases SET status = 'paid', credit_pack_id = $2, paid_at = now(), failure = NULL,
          gateway_payment_id = coalesce(NULLIF($3, ''), gateway_payment_id), updated_at = now()
        WHERE id = $1
        """, [purchaseID, granted.packID, paymentID])
      return (true, granted.resumed)
    case .failed(let why): (next, reason) = (.failed, why)
    case .expired: (next, reason) = (.expired, "it expired unpaid")
    case .reversed: return (false, [])
    }
    // Only an open purchase ends this way; a later payment can still pay a failed or expired one.
    guard status == .pending || status == .awaitingPayment else { return (false, []) }
    try connection.query(
      "UPDATE credit_purchases SET status = $2, failure = $3, updated_at = now() WHERE id = $1",
      [purchaseID, next, reason])
    try Self.recordEvent(
      connection, tenantID: tenantID, .creditsPurchaseFailed,
      [
        "purchase_id": .int(purchaseID), "pack": .string(pack), "status": .string(next.rawValue),
        "reason": .string(reason),
      ])
    return (true, [])
  }

  /// A paid purchase refunded or charged back, looked up by the gateway's payment (a Stripe
  /// PaymentIntent): recorded with the delivery in one transaction; a payment that is no purchase
  /// of ours (an invoice's) is only recorded.
  public func reverseCreditPurchase(
    gateway: String, gatewayPaymentID: String, as how: CreditPurchaseStatus, delivery: GatewayDelivery
  ) async throws -> DeliveryEffect {
    try await pool.transaction { connection in
      guard try Self.firstDelivery(connection, delivery) else { return DeliveryEffect(.duplicate) }
      let found = try connection.query(
        "SELECT id FROM credit_purchases WHERE gateway = $1 AND gateway_payment_id = $2", [gateway, gatewayPaymentID])
      guard let id = try found.first?.decode("id", as: Int64.self) else { return DeliveryEffect(.recorded) }
      let (changed, _) = try Self.settlePurchase(connection, purchaseID: id, .reversed(how))
      return DeliveryEffect(changed ? .applied : .recorded, resumed: [])
    }
  }

  /// Removes what is left of the purchase's pack (a negative `pack_reversal` ledger row) and marks
  /// the pack reversed, so no message refund puts a credit back; what was spent already is kept
  /// in the purchase and the event (`credits.reversed`) for an operator, never clawed back.
  static func reverse(
    _ connection: PostgresConnection, purchaseID: Int64, tenantID: TenantID, pack: String,
    as how: CreditPurchaseStatus
  ) throws {
    let row = try connection.query(
      """
      SELECT p.id, p.credits, p.credits_left FROM credit_packs p JOIN credit_purchases c ON c.credit_pack_id = p.id
      WHERE c.id = $1 FOR UPDATE OF p
      """, [purchaseID])[0]
    let packID: Int64 = try row.decode("id")
    let removed: Int = try row.decode("credits_left")
    let spent = try row.decode("credits", as: Int.self) - removed
    try connection.query(
      "UPDATE credit_packs SET credits_left = 0, reversed_at = now() WHERE id = $1", [packID])
    if removed > 0 {
      try connection.query(
        """
        INSERT INTO credit_ledger (tenant_id, delta, bucket, credit_pack_id, reason, note)
        VALUES ($1, $2, 'pack', $3, 'pack_reversal', $4)
        """, [tenantID, -removed, packID, "purchase \(purchaseID) \(how.rawValue)"])
    }
    try connection.query(
      """
      UPDATE credit_purchases SET status = $2, credits_removed = $3, credits_spent = $4, updated_at = now()
      WHERE id = $1
      """, [purchaseID, how, removed, spent])
    try Self.recordEvent(
      connection, tenantID: tenantID, .creditsReversed,
      [
        "purchase_id": .int(purchaseID), "pack": .string(pack), "reason": .string(how.rawValue),
        "removed": JSONValue(removed), "already_spent": JSONValue(spent),
      ])
  }
}
