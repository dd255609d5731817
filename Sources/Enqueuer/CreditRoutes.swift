import CampaignStore
import Foundation
import HTTPTypes
import Hummingbird
import Store
import Wire

/// `GET /v1/credits`: the tenant's balance (the month's plan credits and bought packs) and its
/// ledger, read forward with a cursor like the event feed.
struct CreditRoutes {
  let store: Store

  func register(on group: RouterGroup<EnqueuerContext>) {
    group.get("credits") { request, context in try await show(request, context: context) }
  }

  struct Balance: Encodable {
    /// Null when the plan's credits are unlimited.
    @ExplicitNull var planCreditsLeft: Int?
    @ExplicitNull var planCreditsGranted: Int?
    var packCreditsLeft: Int
    @ExplicitNull var total: Int?
    @ExplicitNull var periodEnd: Date?
  }

  struct Page: Encodable {
    var balance: Balance
    var ledger: [CreditLedgerEntry]
    var next: String
  }

  func show(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let (after, limit) = try PageQuery.read(request.uri.queryParameters)
    let balance = try await store.creditBalance(tenantID: access.tenant.id)
    let ledger = try await store.creditLedger(tenantID: access.tenant.id, after: after, limit: limit)
    return try JSONResponse.make(
      .ok,
      Page(
        balance: Balance(
          planCreditsLeft: balance.planCreditsLeft, planCreditsGranted: balance.planCreditsGranted,
          packCreditsLeft: balance.packCreditsLeft, total: balance.total, periodEnd: balance.periodEnd),
        ledger: ledger, next: String(ledger.last?.id ?? after)))
  }
}
