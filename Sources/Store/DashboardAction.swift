import Foundation
import Postgres

/// One entry of the dashboard's audit trail: who did what to which jobs, and, for a bulk action,
/// how far it got.
public struct DashboardAction: Sendable, Equatable, Identifiable {
  public enum State: String, Sendable { case running, done, failed }

  public let id: Int64
  /// The admin key's label (or its prefix when it has none), as it was when the action ran.
  public let keyLabel: String
  /// What was done: `dead.retry`, `scheduled.run-now`, `busy.cancel`, `schedule.pause`, …
  public let action: String
  /// The jobs or schedule it was done to, in words: a filter or a job id.
  public let target: String
  /// Jobs the filter matched when the action started, and jobs done so far.
  public let matched: Int
  public let done: Int
  public let state: State
  public let error: String?
  public let startedAt: Date
  /// Last progress written; a running action not updated for long was interrupted.
  public let updatedAt: Date
  public let finishedAt: Date?
  /// Seconds since `updatedAt`, by PostgreSQL's clock.
  public let quietFor: Double
}

extension Store {
  /// Writes an action to the trail before it starts, naming the admin key that asked.
  public func beginDashboardAction(keyID: Int64?, action: String, target: String, matched: Int) async throws -> Int64 {
    let rows = try await pool.query(
      """
      INSERT INTO dashboard_actions (api_key_id, key_label, action, target, matched)
      SELECT nullif($1::bigint, -1), \(Self.keyLabel), $2, left($3, 2000), $4
      RETURNING id
      """, [keyID ?? -1, action, target, max(0, matched)])
    return try rows.rows[0].decode("id")
  }

  /// How the trail names a key: its label, or its public prefix when it has none.
  static let keyLabel =
    "coalesce((SELECT coalesce(nullif(label, ''), prefix) FROM api_keys WHERE id = $1), 'unknown key')"

  /// The trail's name for admin key `id`.
  public func adminKeyLabel(id: Int64?) async throws -> String {
    try await pool.query("SELECT \(Self.keyLabel) AS label", [id ?? -1]).rows[0].decode("label")
  }

  /// Records how many jobs a running action has done so far.
  public func progressDashboardAction(id: Int64, done: Int) async throws {
    try await pool.query(
      "UPDATE dashboard_actions SET done = $2, updated_at = now() WHERE id = $1 AND state = 'running'",
      [id, max(0, done)])
  }

  /// Ends an action: done, or failed with what went wrong (already free of secrets).
  public func finishDashboardAction(id: Int64, done: Int, error: String? = nil) async throws {
    try await pool.query(
      """
      UPDATE dashboard_actions SET done = $2, state = $3, error = left($4, 2000), updated_at = now(),
        finished_at = now()
      WHERE id = $1
      """, [id, max(0, done), error == nil ? "done" : "failed", error ?? ""])
  }

  /// The newest actions first.
  public func dashboardActions(limit: Int = 100) async throws -> [DashboardAction] {
    try await actions(where: "true", [], limit: limit)
  }

  public func dashboardAction(id: Int64) async throws -> DashboardAction? {
    try await actions(where: "id = $1", [id], limit: 1).first
  }

  /// Removes actions older than `days`, for retention.sweep.
  @discardableResult
  public func pruneDashboardActions(olderThanDays days: Int = 365) async throws -> Int {
    try await pool.query(
      "DELETE FROM dashboard_actions WHERE started_at < now() - make_interval(days => $1)", [days]
    ).affected
  }

  private func actions(where condition: String, _ parameters: [any PostgresEncodable], limit: Int) async throws
    -> [DashboardAction]
  {
    let rows = try await pool.query(
      """
      SELECT id, key_label, action, target, matched, done, state, nullif(error, '') AS error, started_at,
             updated_at, finished_at, extract(epoch FROM now() - updated_at)::float8 AS quiet
      FROM dashboard_actions WHERE \(condition) ORDER BY id DESC LIMIT \(max(1, limit))
      """, parameters)
    return try rows.rows.map { row in
      DashboardAction(
        id: try row.decode("id"), keyLabel: try row.decode("key_label"), action: try row.decode("action"),
        target: try row.decode("target"), matched: try row.decode("matched"), done: try row.decode("done"),
        state: DashboardAction.State(rawValue: try row.decode("state")) ?? .failed,
        error: try row.decodeIfPresent("error"), startedAt: try row.decode("started_at"),
        updatedAt: try row.decode("updated_at"), finishedAt: try row.decodeIfPresent("finished_at"),
        quietFor: try row.decode("quiet"))
    }
  }
}
