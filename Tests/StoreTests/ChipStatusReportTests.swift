import Foundation
import Postgres
import Store
import TestSupport
import Testing

/// A status report that changes nothing (most health checks) is one statement, and writes what the
/// report writes all the same: the unreachable count starts over, WORKING clears what a stopped chip
/// collected, and neither the status's age nor the events move. A change still has its event.
@Suite struct ChipStatusReportTests {
  struct Row: Equatable {
    var status: String
    var unreachable: Int
    var restarts: Int
    var changedAt: String
    var stoppedAt: String?
    var attentionSince: String?
  }

  @Test func anUnchangedReportResetsTheChecksAndLeavesTheStatusAgeAndEventsAlone() async throws {
    try await TestDatabase.migrate()
    let tenant = try await TestDatabase.tenant(plan: "enterprise", "chipreport")
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let access = try #require(try await store.tenantAccess(named: tenant))
    let chip = try await store.createChip(
      tenant: access, name: "um", wahaURL: "http://waha.example.invalid", session: "um-\(tenant)", wahaAPIKey: nil)

    func row() async throws -> Row {
      let found = try #require(
        try await pool.query(
          """
          SELECT status, unreachable_checks, restart_attempts, status_changed_at::text AS changed_at,
            stopped_working_at::text AS stopped_at, needs_attention_since::text AS attention_since
          FROM chips WHERE id = $1
          """, [chip.id]
        ).rows.first)
      return Row(
        status: try found.decode("status"), unreachable: try found.decode("unreachable_checks"),
        restarts: try found.decode("restart_attempts"), changedAt: try found.decode("changed_at"),
        stoppedAt: try found.decodeIfPresent("stopped_at"), attentionSince: try found.decodeIfPresent("attention_since")
      )
    }
    func events() async throws -> [String] {
      try await pool.query(
        "SELECT kind FROM events WHERE subject_type = 'chip' AND subject_id = $1 ORDER BY id", [chip.id]
      ).rows.map { try $0.decode("kind") }
    }

    try await store.recordChipStatus(id: chip.id, status: .working)
    let working = try await row()
    #expect(working.status == "WORKING" && working.stoppedAt == nil)
    #expect(try await events() == ["chip.working"])

    // Unreachable twice, then WAHA answers WORKING again: the count starts over, nothing else moves.
    try await store.recordChipUnreachable(id: chip.id, error: "timed out")
    try await store.recordChipUnreachable(id: chip.id, error: "timed out")
    #expect(try await row().unreachable == 2)
    _ = try await pool.query(
      "UPDATE chips SET restart_attempts = 2, needs_attention_since = now() WHERE id = $1", [chip.id])
    try await store.recordChipStatus(id: chip.id, status: .working)
    var again = try await row()
    #expect(again == Row(status: "WORKING", unreachable: 0, restarts: 0, changedAt: working.changedAt))
    #expect(try await events() == ["chip.working"])

    // A change: its event, its new age, and when the chip stopped working.
    try await store.recordChipStatus(id: chip.id, status: .failed)
    let failed = try await row()
    #expect(failed.status == "FAILED" && failed.changedAt != working.changedAt)
    let stoppedAt = try #require(failed.stoppedAt)
    #expect(try await events() == ["chip.working", "chip.failed"])

    // FAILED again: when it stopped stays the first time, restarts are not cleared.
    _ = try await pool.query("UPDATE chips SET restart_attempts = 1, unreachable_checks = 1 WHERE id = $1", [chip.id])
    try await store.recordChipStatus(id: chip.id, status: .failed)
    again = try await row()
    #expect(again.unreachable == 0 && again.restarts == 1)
    #expect(again.stoppedAt == stoppedAt && again.changedAt == failed.changedAt)
    #expect(try await events() == ["chip.working", "chip.failed"])
  }
}
