import Foundation
import Postgres
import Store
import Wire

/// A warm-up program as the tick reads it: its tenant's clock and window, and where it stands.
public struct MaturationProgram: Decodable, Sendable, Equatable {
  public var id: Int64
  public var tenantID: TenantID
  public var tenantName: String
  public var status: MaturationStatus
  public var days: Int
  public var dailyRamp: [Int]?
  public var startAt: Date
  public var windowStart: String
  public var windowEnd: String
  public var windowDays: [Int]
  public var timezone: String
  /// The plan's cap on warm-up messages per chip per day (nil: unlimited).
  public var maturationPerChipDay: Int?
}

/// A chip taking part in a program, with what sending from it needs.
public struct MaturationChip: Decodable, Sendable, Equatable {
  public var id: Int64
  public var status: ChipStatus
  public var wahaUrl: String
  public var session: String
  public var wahaApiKey: String?
  public var chatId: String?
  /// Over the plan's chip limit: it takes no part until a plan allows it again.
  public var readOnly: Bool
  /// Its session runs in whago's own container (see `WAHAClient.ownContainer`).
  public var managed: Bool
}

/// One planned warm-up message, to insert.
public struct PlannedExchange: Sendable, Equatable {
  public var seq: Int
  public var fromChip: Int64
  public var toChip: Int64
  /// For a reply: the seq of the message it answers.
  public var replyToSeq: Int?
  public var text: String
  public var plannedAt: Date

  public init(seq: Int, fromChip: Int64, toChip: Int64, replyToSeq: Int?, text: String, plannedAt: Date) {
    self.seq = seq
    self.fromChip = fromChip
    self.toChip = toChip
    self.replyToSeq = replyToSeq
    self.text = text
    self.plannedAt = plannedAt
  }
}

/// A planned warm-up message as the exchange job reads it.
public struct ExchangeRecord: Decodable, Sendable, Equatable {
  public var id: Int64
  public var programId: Int64
  public var day: Int
  public var state: ExchangeState
  public var text: String
  public var plannedAt: Date
  public var fromChipId: Int64?
  public var toChipId: Int64?
  public var programStatus: MaturationStatus
  public var createdAt: Date
  /// When a run first put it in flight (nil: never).
  public var sendingAt: Date?
}

public enum MaturationError: Error, CustomStringConvertible, Equatable {
  case notInPlan(String)
  case needsTwoChips
  case unknownChips([Int64])
  case notFound(Int64)
  case cannot(MaturationCommand, id: Int64, status: MaturationStatus)

  public var description: String {
    switch self {
    case .notInPlan(let plan): "plan '\(plan)' does not include chip maturation; upgrade to business or enterprise"
    case .needsTwoChips: "maturation needs at least two of the tenant's chips: they talk to each other"
    case .unknownChips(let ids):
      "no chip \(ids.map(String.init).joined(separator: ", ")) among the tenant's; list them with GET /v1/chips"
    case .notFound(let id): "no maturation program \(id)"
    case .cannot(let command, let id, let status): "maturation program \(id) is \(status) and cannot \(command)"
    }
  }
}

extension Store {
  /// Starts a program (scheduled until `startAt`) for at least two of the tenant's chips.
  public func createMaturation(
    tenant: TenantAccess, chipIDs: [Int64], days: Int, startAt: Date?, dailyRamp: [Int]?
  ) async throws -> Int64 {
    guard tenant.plan.maturation else { throw MaturationError.notInPlan(tenant.plan.name) }
    let chips = Array(Set(chipIDs)).sorted()
    guard chips.count >= 2 else { throw MaturationError.needsTwoChips }
    let tenantID = tenant.tenant.id
    let ids = "{" + chips.map(String.init).joined(separator: ",") + "}"
    return try await pool.transaction { connection in
      let owned = try connection.query(
        "SELECT id FROM chips WHERE tenant_id = $1 AND id = ANY($2::bigint[])", [tenantID, ids]
      ).rows.map { try $0.decode("id", as: Int64.self) }
      let missing = chips.filter { !owned.contains($0) }
      if !missing.isEmpty { throw MaturationError.unknownChips(missing) }
      let ramp = dailyRamp.map { "{" + $0.map(String.init).joined(separator: ",") + "}" }
      let id = try connection.query(
        """
        INSERT INTO maturation_programs (tenant_id, status, days, daily_ramp, start_at)
        VALUES ($1, CASE WHEN coalesce($4::timestamptz, now()) > now() THEN 'scheduled' ELSE 'active' END, $2,
          $3::int[], coalesce($4::timestamptz, now()))
        RETURNING id
        """, [tenantID, days, ramp, startAt]
      )[0].decode("id", as: Int64.self)
      try connection.query(
        "INSERT INTO maturation_chips (tenant_id, program_id, chip_id) SELECT $1, $2, unnest($3::bigint[])",
        [tenantID, id, ids])
      return id
    }
  }

  /// pause, resume, stop. Planned messages of a paused or stopped program are skipped when due.
  @discardableResult
  public func maturationCommand(_ command: MaturationCommand, tenantID: TenantID, id: Int64) async throws
    -> MaturationStatus
  {
    try await pool.transaction { connection in
      let rows = try connection.query(
        "SELECT status FROM maturation_programs WHERE id = $1 AND tenant_id = $2 FOR UPDATE", [id, tenantID])
      guard let status = try rows.first?.decode("status", as: MaturationStatus.self) else {
        throw MaturationError.notFound(id)
      }
      let next: MaturationStatus
      switch (command, status) {
      case (.pause, .active), (.pause, .scheduled), (.pause, .paused): next = .paused
      case (.resume, .paused), (.resume, .active): next = .active
      case (.stop, .active), (.stop, .scheduled), (.stop, .paused), (.stop, .stopped): next = .stopped
      default: throw MaturationError.cannot(command, id: id, status: status)
      }
      try connection.query(
        """
        UPDATE maturation_programs SET status = $2, updated_at = now(),
          paused_at = CASE WHEN $2 = 'paused' THEN coalesce(paused_at, now()) ELSE NULL END,
          stopped_at = CASE WHEN $2 = 'stopped' THEN coalesce(stopped_at, now()) ELSE stopped_at END
        WHERE id = $1
        """, [id, next])
      return next
    }
  }

  /// Programs a tick plans for at `now` (the schedule clock's time): active ones, and scheduled
  /// ones whose start has come (made active here).
  public func livePrograms(now: Date) async throws -> [MaturationProgram] {
    try await pool.transaction { connection in
      try connection.query(
        "UPDATE maturation_programs SET status = 'active', updated_at = now() WHERE status = 'scheduled' AND start_at <= $1",
        [now])
      return try connection.query(
        """
        SELECT m.id, m.tenant_id, t.name AS tenant_name, m.status, m.days, m.daily_ramp, m.start_at, m.window_start::text AS window_start,
          m.window_end::text AS window_end, m.window_days, t.timezone, p.maturation_per_chip_day
        FROM maturation_programs m JOIN tenants t ON t.id = m.tenant_id JOIN plans p ON p.name = t.plan
        WHERE m.status = 'active' AND p.maturation ORDER BY m.id
        """
      ).decode(MaturationProgram.self)
    }
  }

  /// Ends a program that has run its days, with its last day's and its own event.
  public func completeMaturation(id: Int64) async throws {
    try await pool.transaction { connection in
      let rows = try connection.query(
        """
        UPDATE maturation_programs SET status = 'completed', completed_at = now(), updated_at = now()
        WHERE id = $1 AND status = 'active' RETURNING tenant_id
        """, [id])
      guard let row = rows.first else { return }
      let tenantID: TenantID = try row.decode("tenant_id")
      let last = try connection.query(
        "SELECT coalesce(max(day), 0) AS day FROM maturation_days WHERE program_id = $1", [id]
      )[0].decode("day", as: Int.self)
      if last > 0 { try Self.recordDayCompleted(connection, programID: id, tenantID: tenantID, day: last) }
      let sent = try connection.query(
        "SELECT count(*)::int AS n FROM maturation_exchanges WHERE program_id = $1 AND state = 'sent'", [id]
      )[0].decode("n", as: Int.self)
      try Self.recordEvent(
        connection, tenantID: tenantID, .maturationCompleted, subject: .maturation(id),
        ["days": JSONValue(last), "sent": JSONValue(sent)])
    }
  }

  /// `maturation.day_completed` for `day`, once: a day is over when the next one is planned or
  /// the program ends.
  static func recordDayCompleted(_ connection: PostgresConnection, programID: Int64, tenantID: TenantID, day: Int)
    throws
  {
    let counts = try connection.query(
      """
      SELECT d.local_date::text AS local_date, d.quota,
        count(e.id) FILTER (WHERE e.state = 'sent')::int AS sent
      FROM maturation_days d LEFT JOIN maturation_exchanges e ON e.program_id = d.program_id AND e.day = d.day
      WHERE d.program_id = $1 AND d.day = $2 GROUP BY d.local_date, d.quota
      """, [programID, day])
    guard let row = counts.first else { return }
    try recordEvent(
      connection, tenantID: tenantID, .maturationDayCompleted, subject: .maturation(programID),
      [
        "day": JSONValue(day), "local_date": .string(try row.decode("local_date")),
        "quota": JSONValue(try row.decode("quota", as: Int.self)),
        "sent": JSONValue(try row.decode("sent", as: Int.self)),
      ], dedupeKey: "\(programID)/\(day)")
  }

  public func maturationChips(programID: Int64) async throws -> [MaturationChip] {
    try await pool.query(
      """
      SELECT c.id, c.status, c.waha_url, c.session, c.waha_api_key, c.chat_id, c.read_only_since IS NOT NULL AS read_only,
        c.container_id IS NOT NULL AS managed
      FROM maturation_chips m JOIN chips c ON c.id = m.chip_id WHERE m.program_id = $1 ORDER BY c.id
      """, [programID]
    ).decode(MaturationChip.self)
  }

  /// The day's quota: the one fixed when the day was first planned, or `quota` now.
  public func maturationDay(programID: Int64, day: Int, localDate: String, quota: Int) async throws -> Int {
    try await pool.transaction { connection in
      let planned = try connection.query(
        """
        INSERT INTO maturation_days (program_id, day, local_date, quota) VALUES ($1, $2, $3::date, $4)
        ON CONFLICT DO NOTHING
        """, [programID, day, localDate, quota])
      if planned.affected > 0, day > 1 {
        let tenantID = try connection.query(
          "SELECT tenant_id FROM maturation_programs WHERE id = $1", [programID]
        )[0].decode("tenant_id", as: TenantID.self)
        try Self.recordDayCompleted(connection, programID: programID, tenantID: tenantID, day: day - 1)
      }
      return try connection.query(
        "SELECT quota FROM maturation_days WHERE program_id = $1 AND day = $2", [programID, day]
      )[0].decode("quota")
    }
  }

  /// Messages already planned for the day, and each chip's share of them.
  public func plannedToday(programID: Int64, day: Int) async throws -> (total: Int, perChip: [Int64: Int]) {
    let rows = try await pool.query(
      """
      SELECT from_chip_id, count(*)::int AS n FROM maturation_exchanges
      WHERE program_id = $1 AND day = $2 GROUP BY from_chip_id
      """, [programID, day])
    var perChip: [Int64: Int] = [:]
    var total = 0
    for row in rows.rows {
      let n: Int = try row.decode("n")
      total += n
      if let chip = try row.decodeIfPresent("from_chip_id", as: Int64.self) { perChip[chip] = n }
    }
    return (total, perChip)
  }

  /// Inserts the planned messages; a seq another tick already planned is left alone, and the
  /// quota's foreign key refuses anything past the day's quota. Returns (id, planned time) of
  /// the rows this call inserted.
  public func planExchanges(programID: Int64, day: Int, quota: Int, _ exchanges: [PlannedExchange]) async throws
    -> [(id: Int64, plannedAt: Date)]
  {
    try await pool.transaction { connection in
      var inserted: [(Int64, Date)] = []
      var ids: [Int: Int64] = [:]
      for exchange in exchanges {
        let rows = try connection.query(
          """
          INSERT INTO maturation_exchanges (program_id, day, quota, seq, from_chip_id, to_chip_id, reply_to_id, text,
            planned_at)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
          ON CONFLICT (program_id, day, seq) DO NOTHING RETURNING id
          """,
          [
            programID, day, quota, exchange.seq, exchange.fromChip, exchange.toChip,
            exchange.replyToSeq.flatMap { ids[$0] }, exchange.text, exchange.plannedAt,
          ])
        if let id = try rows.first?.decode("id", as: Int64.self) {
          ids[exchange.seq] = id
          inserted.append((id, exchange.plannedAt))
        }
      }
      return inserted
    }
  }

  /// Counts a tick that did nothing for a program (or a chip of it), once per reason a day.
  public func recordMaturationSkip(
    programID: Int64, localDate: String, reason: String, chipID: Int64?, detail: String?
  ) async throws {
    _ = try await pool.query(
      """
      INSERT INTO maturation_skips (program_id, local_date, reason, chip_id, detail)
      VALUES ($1, $2::date, $3, $4, $5)
      ON CONFLICT (program_id, local_date, reason, chip_id)
      DO UPDATE SET ticks = maturation_skips.ticks + 1, last_at = now(), detail = excluded.detail
      """, [programID, localDate, reason, chipID, detail])
  }

  public func exchange(id: Int64) async throws -> ExchangeRecord? {
    try await pool.query(
      """
      SELECT e.id, e.program_id, e.day, e.state, e.text, e.planned_at, e.from_chip_id, e.to_chip_id,
        p.status AS program_status, e.created_at, e.sending_at
      FROM maturation_exchanges e JOIN maturation_programs p ON p.id = e.program_id WHERE e.id = $1
      """, [id]
    ).decode(ExchangeRecord.self).first
  }

  /// planned → sending, for the run `owner` (`JobContext.fence`); false when another run has it
  /// or it is done.
  public func claimExchange(id: Int64, owner: String) async throws -> Bool {
    try await pool.query(
      """
      UPDATE maturation_exchanges SET state = 'sending', attempts = attempts + 1, owner = $2, sending_at = now()
      WHERE id = $1 AND state = 'planned'
      """, [id, owner]
    ).affected > 0
  }

  /// The run `owner` takes over an exchange found in flight: the earlier run, should it only be
  /// stalled, can no longer send or record it. False when it is no longer in flight.
  public func takeOverExchange(id: Int64, owner: String) async throws -> Bool {
    try await pool.query(
      "UPDATE maturation_exchanges SET attempts = attempts + 1, owner = $2 WHERE id = $1 AND state = 'sending'",
      [id, owner]
    ).affected > 0
  }

  /// Which of `messageIDs` (WAHA's short ids) other exchanges sent by `chipID` already recorded as
  /// theirs: a message found in the chat is this exchange's only if no other one claims it.
  public func exchangeMessagesRecorded(chipID: Int64, messageIDs: [String]) async throws -> Set<String> {
    guard !messageIDs.isEmpty else { return [] }
    return Set(
      try await pool.query(
        """
        SELECT waha_message_id FROM maturation_exchanges
        WHERE from_chip_id = $1 AND waha_message_id IN (SELECT jsonb_array_elements_text($2::jsonb))
        """, [chipID, JSONValue.array(messageIDs.map { .string($0) }).text()]
      ).rows.map { try $0.decode("waha_message_id", as: String.self) })
  }

  /// Whether `owner` still owns the exchange in flight: checked just before the send.
  public func ownsExchange(id: Int64, owner: String) async throws -> Bool {
    try await !pool.query(
      "SELECT 1 FROM maturation_exchanges WHERE id = $1 AND state = 'sending' AND owner = $2", [id, owner]
    ).isEmpty
  }

  /// Ends the exchange; with `owner`, only while that run owns it (false otherwise).
  @discardableResult
  public func finishExchange(
    id: Int64, state: ExchangeState, wahaMessageID: String?, error: String?, owner: String? = nil
  ) async throws -> Bool {
    try await pool.query(
      """
      UPDATE maturation_exchanges SET state = $2, waha_message_id = $3, error = $4,
        sent_at = CASE WHEN $2 = 'sent' THEN now() ELSE sent_at END
      WHERE id = $1 AND state IN ('planned', 'sending') AND ($5::text IS NULL OR owner = $5)
      """, [id, state, wahaMessageID, error, owner]
    ).affected > 0
  }

  /// Remembers a chip's own chatId (its peers send to it), learnt from WAHA's session `me`.
  public func recordChipChatID(id: Int64, chatID: String) async throws {
    _ = try await pool.query("UPDATE chips SET chat_id = $2 WHERE id = $1", [id, chatID])
  }
}
