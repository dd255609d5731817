import Foundation
import Postgres
import Store
import Wire

/// What an operator or the backend asks of a campaign.
public enum CampaignCommand: String, Sendable, CaseIterable {
  case start, pause, resume, cancel
}

/// A campaign after a command: what it is now, and whether its sender jobs must be (re)launched,
/// at which generation and when (nil: now).
public struct CampaignLaunch: Sendable, Equatable {
  public var campaignID: Int64
  public var tenant: String
  public var generation: Int
  public var startAt: Date?
}

public enum CampaignStateError: Error, CustomStringConvertible, Equatable {
  case cannot(CampaignCommand, id: Int64, status: CampaignStatus)
  case activeLimit(plan: String, limit: Int)
  case schedulingNotInPlan(plan: String)

  public var description: String {
    switch self {
    case .cannot(let command, let id, let status):
      switch (command, status) {
      case (.start, .paused): "campaign \(id) is paused; resume it with POST /v1/campaigns/\(id)/resume"
      case (.resume, .draft): "campaign \(id) has not started; start it with POST /v1/campaigns/\(id)/start"
      default: "campaign \(id) is \(status) and cannot \(command.rawValue)"
      }
    case .activeLimit(let plan, let limit):
      "plan '\(plan)' allows \(limit) active campaign(s) at once; wait for one to finish, cancel one, or upgrade"
    case .schedulingNotInPlan(let plan):
      "plan '\(plan)' does not include scheduled campaigns; start it now (remove start_at) or upgrade"
    }
  }
}

extension Store {
  /// Applies a command in one transaction on the locked campaign row. Repeating a command is
  /// harmless (starting a running campaign relaunches its jobs, which are unique per generation,
  /// so a lost enqueue is repaired by asking again). Returns the campaign and, when its sender jobs
  /// must run, the launch to enqueue.
  public func command(
    _ command: CampaignCommand, campaignID: Int64, tenant: TenantAccess
  ) async throws -> (CampaignRecord, CampaignLaunch?) {
    let tenantID = tenant.tenant.id
    let plan = tenant.plan
    return try await pool.transaction { connection in
      let rows = try connection.query(
        "SELECT status, generation, start_at > now() AS later FROM campaigns WHERE id = $1 AND tenant_id = $2 FOR UPDATE",
        [campaignID, tenantID])
      guard let row = rows.first else { throw CampaignError.notFound(campaignID) }
      let status: CampaignStatus = try row.decode("status")
      let later = try row.decodeIfPresent("later", as: Bool.self) ?? false
      var launch = false
      var bump = false
      switch (command, status) {
      case (.start, .draft):
        if later && !plan.scheduling { throw CampaignStateError.schedulingNotInPlan(plan: plan.name) }
        if let limit = plan.activeCampaigns {
          let active = try connection.query(
            "SELECT count(*)::int AS n FROM campaigns WHERE tenant_id = $1 AND status IN ('scheduled', 'running', 'paused')",
            [tenantID])
          if try active[0].decode("n", as: Int.self) >= limit {
            throw CampaignStateError.activeLimit(plan: plan.name, limit: limit)
          }
        }
        try connection.query(
          """
          UPDATE campaigns SET status = CASE WHEN start_at > now() THEN 'scheduled' ELSE 'running' END,
            started_at = CASE WHEN start_at > now() THEN NULL ELSE now() END
          WHERE id = $1
          """, [campaignID])
        (launch, bump) = (true, true)
        try Self.recordEvent(
          connection, tenantID: tenantID, .campaignStarted, subject: .campaign(campaignID),
          ["scheduled": .bool(later)])
      case (.start, .running), (.start, .scheduled), (.resume, .running), (.resume, .scheduled):
        launch = true
      case (.pause, .running), (.pause, .scheduled):
        try connection.query(
          "UPDATE campaigns SET status = 'paused', pause_reason = 'manual' WHERE id = $1", [campaignID])
        try Self.recordEvent(
          connection, tenantID: tenantID, .campaignPaused, subject: .campaign(campaignID), ["reason": "manual"])
      case (.pause, .paused), (.cancel, .cancelled):
        break
      case (.resume, .paused):
        try connection.query(
          """
          UPDATE campaigns SET status = CASE WHEN start_at > now() THEN 'scheduled' ELSE 'running' END,
            pause_reason = NULL, started_at = CASE WHEN start_at > now() THEN NULL ELSE coalesce(started_at, now()) END
          WHERE id = $1
          """, [campaignID])
        (launch, bump) = (true, true)
        try Self.recordEvent(
          connection, tenantID: tenantID, .campaignResumed, subject: .campaign(campaignID), ["reason": "manual"])
      case (.cancel, .draft), (.cancel, .scheduled), (.cancel, .running), (.cancel, .paused):
        try connection.query(
          "UPDATE campaigns SET status = 'cancelled', pause_reason = NULL, cancelled_at = now() WHERE id = $1",
          [campaignID])
        try Self.recordEvent(connection, tenantID: tenantID, .campaignCancelled, subject: .campaign(campaignID))
      default:
        throw CampaignStateError.cannot(command, id: campaignID, status: status)
      }
      if bump { try connection.query("UPDATE campaigns SET generation = generation + 1 WHERE id = $1", [campaignID]) }
      let updated = try connection.query(
        "SELECT \(Self.campaignColumns), generation FROM campaigns WHERE id = $1", [campaignID])[0]
      let record = try updated.decode(CampaignRecord.self)
      guard launch else { return (record, nil) }
      return (
        record,
        CampaignLaunch(
          campaignID: campaignID, tenant: tenant.tenant.name, generation: try updated.decode("generation"),
          startAt: record.status == .scheduled ? record.startAt : nil)
      )
    }
  }

  /// Resumes the tenant's campaigns that paused for `reason` (`no_credits` when a pack was added,
  /// `tenant_suspended` when the account paid again), each at a new generation, in the caller's
  /// transaction. A manual pause is never undone this way. The launches are for the caller to
  /// enqueue; one lost before it did is found by `unlaunchedCampaigns` and launched by the sweep.
  package static func resume(
    _ connection: PostgresConnection, tenantID: TenantID, pausedFor reason: String
  ) throws -> [CampaignLaunch] {
    let launches = try connection.query(
      """
      UPDATE campaigns c SET status = 'running', pause_reason = NULL, generation = generation + 1,
        started_at = coalesce(c.started_at, now())
      FROM tenants t
      WHERE c.tenant_id = $1 AND t.id = c.tenant_id AND c.status = 'paused' AND c.pause_reason = $2
      RETURNING c.id, t.name, c.generation
      """, [tenantID, reason]
    ).rows.map {
      CampaignLaunch(
        campaignID: try $0.decode("id"), tenant: try $0.decode("name"), generation: try $0.decode("generation"),
        startAt: nil)
    }
    for launch in launches {
      try recordEvent(
        connection, tenantID: tenantID, .campaignResumed, subject: .campaign(launch.campaignID),
        ["reason": .string(reason)])
    }
    return launches
  }

  /// Campaigns that should be sending at a generation whose `campaign.start` never ran: the
  /// enqueue after a command was lost (the process died between the commit and the enqueue), or
  /// the start is still waiting on the queue (launching it again adds nothing: its key is per
  /// generation). A scheduled campaign counts once its start time has passed.
  public func unlaunchedCampaigns(limit: Int = 1000) async throws -> [CampaignLaunch] {
    try await pool.query(
      """
      SELECT c.id, t.name, c.generation FROM campaigns c JOIN tenants t ON t.id = c.tenant_id
      WHERE c.launched_generation <> c.generation
        AND (c.status = 'running' OR (c.status = 'scheduled' AND c.start_at <= now()))
      ORDER BY c.id LIMIT $1
      """, [limit]
    ).rows.map {
      CampaignLaunch(
        campaignID: try $0.decode("id"), tenant: try $0.decode("name"), generation: try $0.decode("generation"),
        startAt: nil)
    }
  }
}

/// A campaign that began sending: whose it is and which chips send it.
public struct CampaignBegun: Sendable, Equatable {
  public var tenant: String
  public var chipIDs: [Int64]
}

extension Store {
  /// Moves a due scheduled campaign to running and records `generation` as launched; nil when the
  /// campaign is not running at `generation` (paused, cancelled, relaunched since the job was
  /// enqueued).
  public func beginCampaign(campaignID: Int64, generation: Int) async throws -> CampaignBegun? {
    try await pool.transaction { connection in
      let rows = try connection.query(
        """
        UPDATE campaigns c SET status = 'running', started_at = coalesce(c.started_at, now()),
          launched_generation = $2
        FROM tenants t
        WHERE c.id = $1 AND c.generation = $2 AND c.status IN ('scheduled', 'running') AND t.id = c.tenant_id
        RETURNING t.name
        """, [campaignID, generation])
      guard let row = rows.first else { return nil }
      let chips = try connection.query(
        "SELECT chip_id FROM campaign_chips WHERE campaign_id = $1 ORDER BY chip_id", [campaignID]
      ).rows.map { try $0.decode("chip_id", as: Int64.self) }
      return CampaignBegun(tenant: try row.decode("name"), chipIDs: chips)
    }
  }
}
