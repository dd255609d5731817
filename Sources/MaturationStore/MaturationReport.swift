import Foundation
import Postgres
import Store

/// A program's progress as its tenant reads it: the current day, its quota and what was exchanged,
/// totals per chip, and the ticks that did nothing, with why.
public struct MaturationReport: Encodable, Sendable {
  public struct ChipTotal: Encodable, Sendable {
    public var chipId: Int64
    public var sent: Int
    public var received: Int
    public var failed: Int
  }
  public struct Skip: Encodable, Sendable {
    public var localDate: String
    public var reason: String
    public var chipId: Int64?
    public var ticks: Int
    public var detail: String?
  }
  public struct Day: Encodable, Sendable {
    public var day: Int
    public var localDate: String
    public var quota: Int
    public var planned: Int
    public var sent: Int
  }

  public var id: Int64
  public var status: MaturationStatus
  public var days: Int
  /// RFC 3339, UTC.
  public var startAt: String
  public var chipIds: [Int64]
  /// The latest planned day (nil before the first tick).
  public var today: Day?
  public var history: [Day]
  public var chips: [ChipTotal]
  public var skipped: [Skip]
}

extension Store {
  public func maturationReport(tenantID: TenantID, id: Int64) async throws -> MaturationReport? {
    try await pool.withConnection { connection in
      let rows = try connection.query(
        "SELECT status, days, start_at FROM maturation_programs WHERE id = $1 AND tenant_id = $2", [id, tenantID])
      guard let program = rows.first else { return nil }
      let chips = try connection.query(
        "SELECT chip_id FROM maturation_chips WHERE program_id = $1 ORDER BY chip_id", [id]
      ).rows.map { try $0.decode("chip_id", as: Int64.self) }
      let days = try connection.query(
        """
        SELECT d.day, d.local_date::text AS local_date, d.quota, count(e.id)::int AS planned,
          count(e.id) FILTER (WHERE e.state = 'sent')::int AS sent
        FROM maturation_days d LEFT JOIN maturation_exchanges e ON e.program_id = d.program_id AND e.day = d.day
        WHERE d.program_id = $1 GROUP BY d.day, d.local_date, d.quota ORDER BY d.day
        """, [id]
      ).rows.map {
        MaturationReport.Day(
          day: try $0.decode("day"), localDate: try $0.decode("local_date"), quota: try $0.decode("quota"),
          planned: try $0.decode("planned"), sent: try $0.decode("sent"))
      }
      let totals = try connection.query(
        """
        SELECT c.chip_id,
          (SELECT count(*) FROM maturation_exchanges e WHERE e.program_id = $1 AND e.from_chip_id = c.chip_id
             AND e.state = 'sent')::int AS sent,
          (SELECT count(*) FROM maturation_exchanges e WHERE e.program_id = $1 AND e.to_chip_id = c.chip_id
             AND e.state = 'sent')::int AS received,
          (SELECT count(*) FROM maturation_exchanges e WHERE e.program_id = $1 AND e.from_chip_id = c.chip_id
             AND e.state IN ('failed', 'skipped'))::int AS failed
        FROM maturation_chips c WHERE c.program_id = $1 ORDER BY c.chip_id
        """, [id]
      ).rows.map {
        MaturationReport.ChipTotal(
          chipId: try $0.decode("chip_id"), sent: try $0.decode("sent"), received: try $0.decode("received"),
          failed: try $0.decode("failed"))
      }
      let skips = try connection.query(
        """
        SELECT local_date::text AS local_date, reason, chip_id, ticks, detail FROM maturation_skips
        WHERE program_id = $1 ORDER BY local_date, reason, chip_id
        """, [id]
      ).rows.map {
        MaturationReport.Skip(
          localDate: try $0.decode("local_date"), reason: try $0.decode("reason"),
          chipId: try $0.decodeIfPresent("chip_id"), ticks: try $0.decode("ticks"),
          detail: try $0.decodeIfPresent("detail"))
      }
      return MaturationReport(
        id: id, status: try program.decode("status"), days: try program.decode("days"),
        startAt: ISO8601DateFormatter().string(from: try program.decode("start_at", as: Date.self)), chipIds: chips,
        today: days.last, history: days, chips: totals,
        skipped: skips)
    }
  }
}
