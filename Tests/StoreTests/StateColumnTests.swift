import BillingStore
import CampaignStore
import Foundation
import MaturationStore
import Postgres
import Store
import TestSupport
import Testing

/// Each state enum is the CHECK list of its column, read back from the migrated schema: a state
/// added to one and not the other fails here, not on a row in production.
@Suite(.serialized) struct StateColumnTests {
  /// The values a column's own CHECK (column IN (...)) allows: the one PostgreSQL names
  /// `<table>_<column>_check`, not the table's checks that relate it to other columns.
  func allowed(_ table: String, _ column: String, in pool: PostgresPool) async throws -> Set<String> {
    let rows = try await pool.query(
      """
      SELECT pg_get_constraintdef(c.oid) AS def FROM pg_constraint c
      WHERE c.conrelid = $1::regclass AND c.contype = 'c' AND pg_get_constraintdef(c.oid) LIKE $2
        AND c.conname = $3
      """, [table, "%(\(column) = ANY%", "\(table)_\(column)_check"])
    #expect(rows.count == 1, "one CHECK on \(table).\(column)")
    let definition: String = try rows[0].decode("def")
    // CHECK ((status = ANY (ARRAY['active'::text, 'suspended'::text])))
    let quoted = try Regex(#"'([^']*)'::text"#)
    return Set(definition.matches(of: quoted).map { String(definition[$0.range].dropFirst().prefix { $0 != "'" }) })
  }

  func expectSame<S: PostgresState>(_ type: S.Type, _ table: String, _ column: String, in pool: PostgresPool)
    async throws
  {
    let schema = try await allowed(table, column, in: pool)
    #expect(!schema.isEmpty)
    #expect(Set(S.allCases.map(\.rawValue)) == schema, "\(S.self) against \(table).\(column)")
  }

  @Test func everyStateEnumIsItsColumnsCheckList() async throws {
    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    try await expectSame(TenantStatus.self, "tenants", "status", in: pool)
    try await expectSame(ChipStatus.self, "chips", "status", in: pool)
    try await expectSame(CampaignStatus.self, "campaigns", "status", in: pool)
    try await expectSame(MessageState.self, "campaign_messages", "state", in: pool)
    try await expectSame(SubscriptionStatus.self, "subscriptions", "status", in: pool)
    try await expectSame(InvoiceStatus.self, "invoices", "status", in: pool)
    try await expectSame(MaturationStatus.self, "maturation_programs", "status", in: pool)
    try await expectSame(ExchangeState.self, "maturation_exchanges", "state", in: pool)
    try await expectSame(CreditPurchaseStatus.self, "credit_purchases", "status", in: pool)
    try await expectSame(CreditPurchaseMethod.self, "credit_purchases", "method", in: pool)
  }

  @Test func aValueOutsideTheEnumFailsToDecodeNamingTheType() throws {
    #expect(throws: PostgresError.self) { try CampaignStatus(postgresText: "archived") }
    do {
      _ = try CampaignStatus(postgresText: "archived")
    } catch {
      #expect(error.message.contains("CampaignStatus"))
      #expect(error.message.contains("running"))
    }
    #expect(try SubscriptionStatus(postgresText: "past_due") == .pastDue)
    #expect(SubscriptionStatus.pastDue.postgresText == "past_due")
    #expect("\(ChipStatus.scanQRCode)" == "SCAN_QR_CODE")
    #expect(ChipStatus(reported: "PASSKEY_REQUIRED") == .unknown)
  }
}
