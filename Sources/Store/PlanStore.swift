import Foundation
import Postgres
import Wire

extension Store {
  static let planColumns =
    "name, chips, monthly_credits, active_campaigns, contacts_per_list, min_send_gap_ms, "
    + "api_requests_per_hour, scheduling, maturation, retention_days, price_cents, sends_per_minute, maturation_per_chip_day, "
    + "scheduled_jobs, job_payload_bytes"

  public func plans() async throws -> [Plan] {
    try await pool.query("SELECT \(Self.planColumns) FROM plans ORDER BY price_cents, name").decode(Plan.self)
  }

  public func plan(named name: String) async throws -> Plan {
    let rows = try await pool.query("SELECT \(Self.planColumns) FROM plans WHERE name = $1", [name])
    guard let row = rows.first else {
      throw PlanError.unknownPlan(name, known: try await plans().map(\.name))
    }
    return try row.decode(Plan.self)
  }

  /// Writes a plan (insert or replace). Every tenant on it follows from its next request or token.
  public func save(_ plan: Plan) async throws {
    _ = try await pool.withConnection { connection in try Self.save(plan, on: connection, replace: true) }
  }

  /// Inserts the default plans that are missing; plans an operator edited are left as they are.
  @discardableResult
  public func seed(plans: [Plan]) async throws -> [String] {
    try await pool.transaction { connection in
      try plans.filter { try Self.save($0, on: connection, replace: false) }.map(\.name)
    }
  }

  /// Returns whether a row was written.
  static func save(_ plan: Plan, on connection: PostgresConnection, replace: Bool) throws -> Bool {
    let conflict =
      replace
      ? """
      DO UPDATE SET chips = $2, monthly_credits = $3, active_campaigns = $4, contacts_per_list = $5,
        min_send_gap_ms = $6, api_requests_per_hour = $7, scheduling = $8, maturation = $9,
        retention_days = $10, price_cents = $11, sends_per_minute = $12, maturation_per_chip_day = $13,
        scheduled_jobs = $14, job_payload_bytes = $15, updated_at = now()
      """ : "DO NOTHING"
    let rows = try connection.query(
      "INSERT INTO plans (\(planColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
        + "ON CONFLICT (name) \(conflict)",
      [
        plan.name, plan.chips, plan.monthlyCredits, plan.activeCampaigns, plan.contactsPerList, plan.minSendGapMs,
        plan.apiRequestsPerHour, plan.scheduling, plan.maturation, plan.retentionDays, plan.priceCents,
        plan.sendsPerMinute, plan.maturationPerChipDay, plan.scheduledJobs, plan.jobPayloadBytes,
      ])
    return rows.affected > 0
  }
}

/// The default plans in jobs/plans.json, seeded by `whago migrate`.
public enum DefaultPlans {
  public static func load(directory: String) throws -> [Plan] {
    try parse(try file(directory: directory))
  }

  /// jobs/plans.json's bytes (plans and credit packs).
  static func file(directory: String) throws -> Data {
    let url = URL(fileURLWithPath: directory).appendingPathComponent("plans.json")
    do {
      return try Data(contentsOf: url)
    } catch {
      throw PlanError.badDefaults("cannot read \(url.path): \(error.localizedDescription)")
    }
  }

  static func parse(_ data: Data) throws -> [Plan] {
    struct File: Decodable { var plans: [String: Limits] }
    struct Limits: Decodable {
      var chips: Int?
      var monthlyCredits: Int?
      var activeCampaigns: Int?
      var contactsPerList: Int?
      var minSendGapMs: Int
      var sendsPerMinute: Int?
      var maturationPerChipDay: Int?
      var apiRequestsPerHour: Int?
      var scheduling: Bool
      var maturation: Bool
      var retentionDays: Int?
      var priceCents: Int
      var scheduledJobs: Int?
      var jobPayloadBytes: Int?
    }
    let file: File
    do {
      file = try WireJSON.decoder.decode(File.self, from: data)
    } catch {
      throw PlanError.badDefaults("does not decode: \(error)")
    }
    return file.plans.sorted { $0.key < $1.key }.map { name, l in
      Plan(
        name: name, chips: l.chips, monthlyCredits: l.monthlyCredits, activeCampaigns: l.activeCampaigns,
        contactsPerList: l.contactsPerList, minSendGapMs: l.minSendGapMs, sendsPerMinute: l.sendsPerMinute,
        maturationPerChipDay: l.maturationPerChipDay,
        apiRequestsPerHour: l.apiRequestsPerHour, scheduling: l.scheduling, maturation: l.maturation,
        retentionDays: l.retentionDays, priceCents: l.priceCents, scheduledJobs: l.scheduledJobs,
        jobPayloadBytes: l.jobPayloadBytes)
    }
  }
}
