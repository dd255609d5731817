import Foundation
import Postgres
import Wire

extension Store {
  /// Holds the tenant's chips to its plan's limit after its plan changed (a renewal on a cheaper
  /// plan, the drop to free, an upgrade, an operator's `tenant set-plan`): the chips past the limit
  /// go read-only and send nothing, the others are writable. The paid-for thing is never withheld
  /// and no chip is deleted: an upgrade gives them back. Which chips stay writable: the tenant's
  /// `keep_chips`, in its order, then the oldest (so the newest go read-only first).
  ///
  /// Campaigns follow in the same transaction, as they do when a chip stops working: a running
  /// campaign left without a writable WORKING chip pauses (`no_working_chips`), and one paused so
  /// resumes when a chip comes back. Each chip that changes is an event.
  package static func enforceChipLimit(_ connection: PostgresConnection, tenantID: TenantID) throws {
    let changed = try connection.query(
      """
      WITH plan AS (
        SELECT p.name, p.chips, t.keep_chips FROM tenants t JOIN plans p ON p.name = t.plan WHERE t.id = $1
      ), ranked AS (
        SELECT c.id, c.read_only_since IS NOT NULL AS was,
          plan.chips IS NOT NULL AND row_number() OVER (
            ORDER BY array_position(plan.keep_chips, c.id) NULLS LAST, c.created_at, c.id) > plan.chips AS over
        FROM chips c, plan WHERE c.tenant_id = $1
      )
      UPDATE chips c SET read_only_since = CASE WHEN r.over THEN now() END
      FROM ranked r WHERE c.id = r.id AND r.was <> r.over
      RETURNING c.id, r.over, (SELECT name FROM plan) AS plan, (SELECT chips FROM plan) AS chip_limit
      """, [tenantID])
    var readOnly: [Int64] = []
    var writable: [Int64] = []
    for row in changed.rows {
      let id: Int64 = try row.decode("id")
      let plan: String = try row.decode("plan")
      if try row.decode("over", as: Bool.self) {
        readOnly.append(id)
        try recordEvent(
          connection, tenantID: tenantID, .chipReadOnly, subject: .chip(id),
          ["plan": .string(plan), "limit": JSONValue(try row.decode("chip_limit", as: Int.self))])
      } else {
        writable.append(id)
        try recordEvent(connection, tenantID: tenantID, .chipWritable, subject: .chip(id), ["plan": .string(plan)])
      }
    }
    guard !changed.rows.isEmpty else { return }
    try pauseCampaignsWithoutWorkingChips(connection, tenantID: tenantID, chips: readOnly)
    try resumeCampaignsWithWorkingChips(connection, tenantID: tenantID, chips: writable)
  }
}
