import Foundation
import JobQueue
import Postgres
import TestSupport
import Testing

extension EndToEndTests {
  /// What a paying customer does in its first months, on the compressed schedule clock (a day every
  /// ten seconds), through the payments simulator: a downgrade waits for the renewal, which
  /// charges the new price and applies it; a cancelled subscription keeps its plan to the period's
  /// end, then free, and the tenant subscribes again with its history kept; a new card clears a
  /// past-due renewal at once. The simulator's charge log is the witness.
  @Test func aDowngradeACancellationAndACardChangeTakeEffectWhenTheySay() async throws {
    let day: TimeInterval = 86_400
    let start = try await TestDatabase.nextHour()
    // Ten seconds a day: the past-due account's second attempt is a day (10 s) after its first,
    // time enough to change the card before dunning goes on.
    try await BillingRun.with(start: start, speed: 8_640, sweepCron: "0 0 * * * *") { run in
      // Six days (60 s) to the renewals: the three subscriptions and the announced downgrade must
      // all land before it, and on a loaded machine six CLI processes took more than one day's 10 s
      // (and, with the whole suite beside them, more than three days' 30 s).
      let due = start.addingTimeInterval(6 * day)
      let downgrading = try await run.subscribe(
        plan: "enterprise", gateway: "stripe", paymentMethod: "pm_card_visa", periodEnd: due, label: "downgrading")
      let leaving = try await run.subscribe(
        plan: "business", gateway: "stripe", paymentMethod: "pm_card_visa", periodEnd: due, label: "leaving")
      let pastDue = try await run.subscribe(
        plan: "business", gateway: "stripe", paymentMethod: "pm_card_chargeDeclined", periodEnd: due,
        label: "pastdue")

      // Before the renewal: the downgrade is only announced, the cancellation only recorded.
      let quoted = try await run.whago(["subscription", "change", downgrading, "--plan", "business"])
      #expect(try await run.state(downgrading).plan == "enterprise", "\(quoted)")
      try await run.whago(["subscription", "cancel", leaving])
      #expect(try await run.state(leaving).plan == "business")

      try run.startWorker()
      // The renewal charges the cheaper price and applies it.
      try await eventually("the downgrade to apply at the renewal", within: .seconds(120)) {
        try await run.state(downgrading).plan == "business"
      }
      let renewal = try await run.charges(customer: "cus_\(downgrading)")
      #expect(renewal.count == 1 && renewal.first?["amount"] as? Int == 9_700, "\(renewal)")
      #expect(try await run.state(downgrading).subscription == "active")

      // The cancelled one: nothing charged, free at the period's end.
      try await eventually("the cancelled tenant to drop to free", within: .seconds(120)) {
        try await run.state(leaving).plan == "free"
      }
      #expect(try await run.charges(customer: "cus_\(leaving)").isEmpty)
      #expect(try await run.events(leaving).contains("billing.downgraded"))
      // It comes back: a new subscription, the old one and its history kept.
      let back = start.addingTimeInterval(40 * day)
      try await run.whago([
        "subscription", "create", leaving, "--plan", "business", "--gateway", "stripe", "--customer",
        "cus_\(leaving)", "--payment-method", "pm_card_visa", "--period-end", ISO8601DateFormatter().string(from: back),
      ])
      let rows = try await run.pool.query(
        """
        SELECT s.status FROM subscriptions s JOIN tenants t ON t.id = s.tenant_id WHERE t.name = $1 ORDER BY s.id
        """, [leaving]
      ).rows.map { try $0.decode("status", as: String.self) }
      #expect(rows == ["canceled", "active"], "\(rows)")
      #expect(try await run.state(leaving).plan == "business")

      // The declined renewal: past due; a new card is charged at once and clears it.
      try await eventually("the declined renewal to leave the account past due", within: .seconds(60)) {
        try await run.state(pastDue).subscription == "past_due"
      }
      try await run.whago(["subscription", "payment-method", pastDue, "pm_card_visa"])
      try await eventually("the new card to pay the renewal", within: .seconds(60)) {
        try await run.state(pastDue).subscription == "active"
      }
      let attempts = try await run.charges(customer: "cus_\(pastDue)").compactMap { $0["outcome"] as? String }
      #expect(attempts.filter { $0 == "succeeded" }.count == 1, "\(attempts)")
      #expect(attempts.first == "declined", "\(attempts)")
      #expect(try await run.state(pastDue).plan == "business")
    }
  }
}
