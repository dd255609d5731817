import Foundation
import Postgres
import Wire

/// What connecting one chip needs to know: its session, where its tenant's container is, and how
/// far it got. Each step of `chip.provision` reads this afresh, so a rerun after a crash starts
/// from the step that did not finish.
public struct ChipProvisioning: Sendable, Equatable {
  public var chipID: Int64
  public var chipUUID: String
  public var tenantID: TenantID
  public var session: String
  public var step: String?
  public var container: WAHAContainer
}

extension Store {
  public func chipProvisioning(chipID: Int64) async throws -> ChipProvisioning? {
    guard
      let row = try await pool.query(
        "SELECT id, uuid::text AS uuid, tenant_id, session, provisioning_step, container_id FROM chips WHERE id = $1",
        [chipID]
      ).first, let containerID: Int64 = try row.decodeIfPresent("container_id")
    else { return nil }
    guard let container = try await container(id: containerID) else { return nil }
    return ChipProvisioning(
      chipID: chipID, chipUUID: try row.decode("uuid"), tenantID: try row.decode("tenant_id"),
      session: try row.decode("session"), step: try row.decodeIfPresent("provisioning_step"), container: container)
  }

  /// Records the step the chip reached (clearing the last error), or, with `error`, why the
  /// current one failed (the step stays, so `GET /v1/chips/{id}` shows where it is stuck).
  public func recordProvisioning(chipID: Int64, step: String? = nil, error: String? = nil) async throws {
    if let step {
      try await pool.query(
        "UPDATE chips SET provisioning_step = $2, last_error = NULL WHERE id = $1", [chipID, step])
    } else if let error {
      try await pool.query("UPDATE chips SET last_error = $2 WHERE id = $1", [chipID, String(error.prefix(1000))])
    }
  }
}

/// What a `chip.restart` run does, decided under the chip's row lock so two runs never both count
/// the same attempt.
public enum ChipRestartDecision: Sendable, Equatable {
  /// Restart the session; this is restart number `attempt`.
  case restart(attempt: Int, session: String, container: Int64)
  /// The chip works again (or asks for a QR: a logout is not cured by a restart).
  case recovered
  /// It stayed FAILED through every restart; it is marked and left for someone (event sent once).
  case needsAttention
  /// The chip is gone, or runs on the tenant's own WAHA.
  case notManaged
}

extension Store {
  public func beginChipRestart(chipID: Int64, maxAttempts: Int) async throws -> ChipRestartDecision {
    try await pool.transaction { connection in
      guard
        let row = try connection.query(
          """
          SELECT tenant_id, session, status, restart_attempts, needs_attention_since, container_id
          FROM chips WHERE id = $1 FOR UPDATE
          """, [chipID]
        ).first, let container: Int64 = try row.decodeIfPresent("container_id")
      else { return .notManaged }
      guard try row.decode("status", as: ChipStatus.self) == .failed else { return .recovered }
      let attempts: Int = try row.decode("restart_attempts")
      if attempts >= maxAttempts {
        if try row.decodeIfPresent("needs_attention_since", as: Date.self) == nil {
          try connection.query("UPDATE chips SET needs_attention_since = now() WHERE id = $1", [chipID])
          try Self.recordEvent(
            connection, tenantID: try row.decode("tenant_id"), .chipNeedsAttention, subject: .chip(chipID),
            ["status": .string(ChipStatus.failed.rawValue), "restarts": .int(Int64(attempts))])
        }
        return .needsAttention
      }
      try connection.query("UPDATE chips SET restart_attempts = restart_attempts + 1 WHERE id = $1", [chipID])
      return .restart(attempt: attempts + 1, session: try row.decode("session"), container: container)
    }
  }

  /// Chips whago runs that are FAILED and not yet given up on, for the health check to restart
  /// (a lost `session.status` webhook must not leave one down).
  public func failedManagedChips() async throws -> [Int64] {
    try await pool.query(
      """
      SELECT id FROM chips
      WHERE container_id IS NOT NULL AND status = 'FAILED' AND needs_attention_since IS NULL
        AND provisioning_step = 'done'
      ORDER BY id
      """
    ).rows.map { try $0.decode("id") }
  }

  /// Chips still being connected with no error recorded, created over a minute ago: their
  /// `chip.provision` may never have been enqueued (serve died between the insert and the
  /// enqueue). The job's key is held while it lives, so enqueuing again never runs two.
  public func stalledProvisioning() async throws -> [Int64] {
    try await pool.query(
      """
      SELECT id FROM chips
      WHERE provisioning_step IS NOT NULL AND provisioning_step <> 'done' AND last_error IS NULL
        AND created_at < now() - interval '1 minute'
      ORDER BY id
      """
    ).rows.map { try $0.decode("id") }
  }

  public func container(id: Int64) async throws -> WAHAContainer? {
    try await pool.query(
      "\(Self.containerSelect) WHERE w.id = $1",
      [id]
    ).decode(WAHAContainer.self).first
  }
}
