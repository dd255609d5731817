import Foundation
import Postgres
import Store
import Wire

/// What one step of a chip's sender for a campaign needs to know, read in one go.
public struct SenderState: Sendable {
  public struct Campaign: Decodable, Sendable {
    public var status: CampaignStatus
    public var generation: Int
    public var template: String
    public var mediaUrl: String?
    public var minIntervalMs: Int
    public var maxIntervalMs: Int
    public var restEvery: Int?
    public var restMinMs: Int
    public var restMaxMs: Int
    public var tenantID: TenantID
    public var timezone: String
    public var windowStart: String
    public var windowEnd: String
    public var windowDays: [Int]
    public var minSendGapMs: Int
  }

  public struct ChipSide: Decodable, Sendable {
    public var wahaUrl: String
    public var session: String
    public var wahaApiKey: String?
    public var status: ChipStatus
    /// Over the plan's chip limit: it sends nothing until a plan allows it again.
    public var readOnly: Bool
    /// Messages this chip sent for the campaign so far.
    public var sent: Int
    /// Its session runs in whago's own container (see `WAHAClient.ownContainer`).
    public var managed: Bool
  }

  public var campaign: Campaign
  public var chip: ChipSide
  /// The message this chip was sending when its last run ended early (crash, timeout): WAHA may
  /// have accepted it, so it is looked up before any new send, unless it holds no text yet
  /// (`OutgoingMessage.variables`): then it never passed its pre-send check and was not sent.
  public var inFlight: OutgoingMessage?
}

/// One recipient's message, claimed by one chip.
public struct OutgoingMessage: Sendable, Equatable {
  public var id: Int64
  public var phone: String
  public var chatId: String?
  /// The text to send. Kept on the message by the claim that renders it (the settling one) or by
  /// the pre-send check (`sendCheck`); a message read before either holds `variables` instead,
  /// and the text is rendered from them.
  public var text: String
  /// The recipient's template variables (JSON) while the message holds no text: a claim in one
  /// statement leaves the rendering to its caller and the keeping to `sendCheck`, so a message
  /// found in flight with its variables was never sent and has nothing to look up in WAHA.
  public var variables: String?
  /// When the latest attempt started (just before the HTTP call).
  public var sendingAt: Date
  public var attempts: Int
}

/// What claiming the next message found.
/// What the check just before a send found.
public enum SendCheck: Sendable, Equatable {
  /// The message is this run's and the campaign runs: send it.
  case send
  /// The campaign was paused, cancelled or relaunched: hand the message back unsent.
  case stopped
  /// Another run took the message over: stop, touching nothing.
  case notOwner
}

/// What a sender's claim (`claimForSender`) found.
public enum SenderClaim: Sendable {
  /// A message, with the sender's state as the claim read it.
  case message(OutgoingMessage, SenderState)
  /// No message; why.
  case none(Claim)
  /// Nothing was claimed: the chip is not WORKING or is read-only, left the campaign, or holds a
  /// message in flight. The sender reads its state (`senderState`) and goes on from there.
  case lookAgain
}

public enum Claim: Sendable, Equatable {
  case message(OutgoingMessage)
  /// The campaign is no longer running (paused, cancelled) or was relaunched (another generation).
  case stopped
  /// No credit is left: the campaign paused itself (reason no_credits) until credits are added.
  case outOfCredits
  /// No pending message is left; `completed` when this claim also closed the campaign.
  case finished(completed: Bool)
}

extension Store {
  /// The campaign, its tenant's window and plan gap, and this chip; nil when the chip is no longer
  /// one of the campaign's.
  public func senderState(campaignID: Int64, chipID: Int64) async throws -> SenderState? {
    // One statement: a sender's first step in a worker, and each step after its chip was not ready.
    let rows = try await pool.query(
      """
      SELECT \(Self.senderColumns), f.id, f.phone, f.chat_id, f.rendered, f.vars, f.sending_at, f.attempts
      FROM campaigns c JOIN tenants t ON t.id = c.tenant_id JOIN plans p ON p.name = t.plan
        JOIN campaign_chips cc ON cc.campaign_id = c.id AND cc.chip_id = $2 JOIN chips h ON h.id = cc.chip_id
        LEFT JOIN LATERAL (
          SELECT id, phone, chat_id, rendered, vars::text AS vars, sending_at, attempts FROM campaign_messages
          WHERE campaign_id = c.id AND chip_id = $2 AND state = 'sending' ORDER BY id LIMIT 1) f ON true
      WHERE c.id = $1
      """, [campaignID, chipID])
    guard let row = rows.first else { return nil }
    let inFlight = try row.decodeIfPresent("id", as: Int64.self) == nil ? nil : try Self.outgoing(row)
    return try Self.senderState(row, inFlight: inFlight)
  }

  /// What a sender reads before each step, from campaign `c`, tenant `t`, plan `p`, the chip's
  /// membership `cc` and the chip `h`; `senderState(_:inFlight:)` decodes it.
  static let senderColumns = """
    c.status, c.generation, c.template, c.media_url, c.min_interval_ms, c.max_interval_ms, c.rest_every,
    c.rest_min_ms, c.rest_max_ms, c.tenant_id, t.timezone, t.window_start::text AS window_start,
    t.window_end::text AS window_end, t.window_days, p.min_send_gap_ms,
    h.waha_url, h.session, h.waha_api_key, h.status AS chip_status, h.read_only_since IS NOT NULL AS read_only,
    cc.sent, h.container_id IS NOT NULL AS managed
    """

  private static func senderState(_ row: PostgresRow, inFlight: OutgoingMessage?) throws -> SenderState {
    let chip = SenderState.ChipSide(
      wahaUrl: try row.decode("waha_url"), session: try row.decode("session"),
      wahaApiKey: try row.decodeIfPresent("waha_api_key"), status: try row.decode("chip_status"),
      readOnly: try row.decode("read_only"), sent: try row.decode("sent"), managed: try row.decode("managed"))
    return SenderState(campaign: try row.decode(SenderState.Campaign.self), chip: chip, inFlight: inFlight)
  }

  /// Claims the campaign's next pending message for `chipID`, with its credit, for the run `owner`
  /// (`JobContext.fence`). Opted-out numbers met on the way are skipped. The campaign row is read
  /// under a share lock, so a pause that committed first is always seen: no message is claimed
  /// after a pause.
  ///
  /// Most claims are one statement (`claimNext`); the rest, and every claim that finds something
  /// to settle first, take the transaction that settles it.
  public func claimMessage(
    campaignID: Int64, chipID: Int64, generation: Int, owner: String,
    render: @escaping @Sendable (_ variables: String) -> String?
  ) async throws -> Claim {
    switch try await claim(
      campaignID: campaignID, chipID: chipID, generation: generation, owner: owner, asSender: false, render: render)
    {
    case .claim(let claim, _): return claim
    case .lookAgain: return .stopped  // only a sender's claim looks at the chip
    }
  }

  /// A sender's claim, which also reads what the sender would have read first (`senderState`): it
  /// claims only while the chip is WORKING, not read-only, still the campaign's and holds no
  /// message in flight, and returns the state it read beside the message. A sender that knows its
  /// campaign's settings (which never change) can then claim without reading its state first:
  /// the tenant's window and the chip's address come fresh with the claim.
  public func claimForSender(
    campaignID: Int64, chipID: Int64, generation: Int, owner: String,
    render: @escaping @Sendable (_ variables: String) -> String?
  ) async throws -> SenderClaim {
    switch try await claim(
      campaignID: campaignID, chipID: chipID, generation: generation, owner: owner, asSender: true, render: render)
    {
    case .claim(.message(let message), let state?): return .message(message, state)
    case .claim(.message, nil), .lookAgain: return .lookAgain
    case .claim(let claim, _): return .none(claim)
    }
  }

  private enum ClaimOutcome {
    case claim(Claim, SenderState?)
    case lookAgain
  }

  private func claim(
    campaignID: Int64, chipID: Int64, generation: Int, owner: String, asSender: Bool,
    render: @escaping @Sendable (_ variables: String) -> String?
  ) async throws -> ClaimOutcome {
    var state: SenderState?
    while true {
      let (quick, read) = try await claimNext(
        campaignID: campaignID, chipID: chipID, generation: generation, owner: owner, asSender: asSender)
      state = read ?? state
      switch quick {
      case .stopped: return .claim(.stopped, state)
      case .lookAgain: return .lookAgain
      case .unsettled:
        let claim = try await claimSettling(
          campaignID: campaignID, chipID: chipID, generation: generation, owner: owner, render: render)
        return .claim(claim, state)
      case .claimed(var message):
        guard let text = render(message.variables ?? "{}") else {
          try await recordFailed(messageID: message.id, owner: owner, reason: Self.missingVariable)
          continue
        }
        message.text = text
        return .claim(.message(message), state)
      }
    }
  }

  /// Why a message whose recipient lacks one of the template's variables failed.
  public static let missingVariable = "the template needs a variable this recipient lacks"

  private enum QuickClaim {
    case claimed(OutgoingMessage)
    case stopped
    /// A sender's claim found its chip not ready to send (see `claimForSender`).
    case lookAgain
    /// Something stands before a plain claim: the next recipient opted out, the tenant is
    /// suspended, its credit account is not open yet or its period has ended, its plan credits are
    /// spent (a pack is next) or this claim would bring them to the low-credit alert, or no message
    /// is pending after the chip's cursor.
    case unsettled
  }

  /// The common claim in one autocommit statement: the campaign row under a share lock with the
  /// first pending message after this chip's cursor (`nextPending`), a plan credit taken from the
  /// tenant's account when its plan counts them, the message marked `sending` for `owner` and the
  /// cursor moved past it. The text is not rendered here: the caller renders it from the
  /// recipient's variables and `sendCheck` keeps it, so a run interrupted before that check sent
  /// nothing and its retry renders again. The statement claims nothing when anything is left to
  /// settle, and says so.
  ///
  /// It takes a plan credit only while the tenant stays above the low-credit alert after it (the
  /// plan's and the packs' credits left over a tenth of what they hold, `alertIfLow`'s test), so
  /// the alert is always the settling claim's. Below that line every claim settles, and that claim
  /// renders before it reserves: a recipient the template cannot serve, whose credit this statement
  /// holds until `recordFailed` gives it back, never holds one of a tenant's last credits.
  ///
  /// `asSender`: the claim also requires the chip to be ready to send (`claimForSender`) and
  /// returns the sender's state as it read it.
  private func claimNext(campaignID: Int64, chipID: Int64, generation: Int, owner: String, asSender: Bool)
    async throws -> (QuickClaim, SenderState?)
  {
    // The chip is the campaign's, WORKING, not read-only and sending nothing for it (or nobody asked).
    let ready = """
      (NOT $5 OR (cc.chip_id IS NOT NULL AND h.status = 'WORKING' AND h.read_only_since IS NULL
        AND NOT EXISTS (
          SELECT 1 FROM campaign_messages f WHERE f.campaign_id = c.id AND f.chip_id = $2 AND f.state = 'sending')))
      """
    let rows = try await pool.query(
      """
      WITH c AS (
        SELECT \(Self.senderColumns), p.monthly_credits, \(ready) AS ready,
          c.status = 'running' AND c.generation = $3 AND t.status <> 'suspended' AND n.message_id IS NOT NULL
            AND NOT n.opted_out AS claimable,
          n.message_id
        \(Self.campaignWithNextPending(onlyIf: ready))),
      credit AS (
        UPDATE credit_accounts a SET plan_credits_left = a.plan_credits_left - 1, updated_at = now()
        FROM c, LATERAL (
          SELECT coalesce(sum(k.credits_left), 0) AS left_in_packs, coalesce(sum(k.credits), 0) AS packs
          FROM credit_packs k WHERE k.tenant_id = c.tenant_id AND k.credits_left > 0) k
        WHERE c.claimable AND c.ready AND c.monthly_credits IS NOT NULL AND a.tenant_id = c.tenant_id
          AND a.plan_credits_left > 0 AND a.period_end > now()
          AND (a.plan_credits_left - 1 + k.left_in_packs) * 10 > a.plan_credits_granted + k.packs
        RETURNING a.tenant_id),
      claimed AS (
        UPDATE campaign_messages m SET state = 'sending', chip_id = $2, rendered = NULL, attempts = m.attempts + 1,
          sending_at = now(), error = NULL, owner = $4
        FROM c
        WHERE m.id = c.message_id AND c.claimable AND c.ready
          AND (c.monthly_credits IS NULL OR EXISTS (SELECT 1 FROM credit))
        RETURNING m.id, m.phone, m.chat_id, m.vars::text AS vars, m.sending_at, m.attempts),
      charged AS (
        INSERT INTO credit_ledger (tenant_id, delta, bucket, reason, campaign_message_id)
        SELECT c.tenant_id, -1, 'plan', 'message', claimed.id FROM c, claimed WHERE c.monthly_credits IS NOT NULL),
      passed AS (
        UPDATE campaign_chips cc SET claim_cursor = claimed.id FROM claimed
        WHERE cc.campaign_id = $1 AND cc.chip_id = $2 AND cc.claim_cursor < claimed.id)
      SELECT c.*, claimed.id, claimed.phone, claimed.chat_id, NULL::text AS rendered, claimed.vars,
        claimed.sending_at, claimed.attempts
      FROM c LEFT JOIN claimed ON true
      """, [campaignID, chipID, generation, owner, asSender])
    guard let row = rows.first, try row.decode("status", as: CampaignStatus.self) == .running,
      try row.decode("generation", as: Int.self) == generation
    else { return (.stopped, nil) }
    guard try row.decode("ready", as: Bool.self) else { return (.lookAgain, nil) }
    let state = asSender ? try Self.senderState(row, inFlight: nil) : nil
    guard try row.decodeIfPresent("id", as: Int64.self) != nil else { return (.unsettled, state) }
    return (.claimed(try Self.outgoing(row)), state)
  }

  /// A claim in one transaction that settles what it meets on the way: skips opted-out numbers,
  /// fails messages the template cannot render, pauses the campaign of a suspended tenant or one
  /// out of credits, renews the plan's credit period or spends a pack, alerts on low credits, and
  /// finds the end of the campaign.
  private func claimSettling(
    campaignID: Int64, chipID: Int64, generation: Int, owner: String,
    render: @escaping @Sendable (_ variables: String) -> String?
  ) async throws -> Claim {
    let claim = try await pool.transaction { connection -> Claim in
      // The campaign row and the first pending message after this chip's cursor in one statement:
      // the message is locked even when the campaign turns out not to be running, and released
      // with the transaction. A message skipped or failed below makes the next reads their own.
      let campaign = try connection.query(
        """
        SELECT c.status, c.generation, c.tenant_id, t.status AS tenant_status, cc.claim_cursor, p.monthly_credits,
          n.message_id, n.phone, n.vars, n.opted_out
        \(Self.campaignWithNextPending())
        """, [campaignID, chipID])
      guard let row = campaign.first, try row.decode("status", as: CampaignStatus.self) == .running,
        try row.decode("generation", as: Int.self) == generation
      else { return .stopped }
      let tenantID: TenantID = try row.decode("tenant_id")
      var cursor: Int64 = try row.decodeIfPresent("claim_cursor") ?? 0
      let monthlyCredits: Int? = try row.decodeIfPresent("monthly_credits")
      if try row.decode("tenant_status", as: String.self) == "suspended" {
        // An account suspended for non-payment sends nothing; its campaigns wait to be resumed.
        let paused = try connection.query(
          "UPDATE campaigns SET status = 'paused', pause_reason = 'tenant_suspended' WHERE id = $1 AND status = 'running'",
          [campaignID]
        ).affected
        if paused > 0 {
          try Self.recordEvent(
            connection, tenantID: tenantID, .campaignPaused, subject: .campaign(campaignID),
            ["reason": "tenant_suspended"])
        }
        return .stopped
      }
      var found: PostgresRow? = try row.decodeIfPresent("message_id", as: Int64.self) != nil ? row : nil
      while true {
        if found == nil {
          found = try connection.query(
            Self.nextPending("$1", tenant: "$2::bigint", after: "$3"), [campaignID, tenantID, cursor]
          ).first
        }
        guard let message = found else {
          if cursor > 0 {
            // Nothing after the cursor: one last look from the start before calling it finished.
            cursor = 0
            try connection.query(
              "UPDATE campaign_chips SET claim_cursor = 0 WHERE campaign_id = $1 AND chip_id = $2",
              [campaignID, chipID])
            continue
          }
          // Closed after this transaction: its share lock on the campaign row, upgraded here, would
          // deadlock with every other chip's claim reaching the end at once.
          return .finished(completed: false)
        }
        found = nil
        let id: Int64 = try message.decode("message_id")
        cursor = id
        // Each outcome below moves this chip's cursor past the message in the same statement.
        let passed = """
          WITH passed AS (
            UPDATE campaign_chips SET claim_cursor = $1 WHERE campaign_id = $2 AND chip_id = $3 AND claim_cursor < $1)
          """
        if try message.decode("opted_out", as: Bool.self) {
          try connection.query(
            "\(passed) UPDATE campaign_messages SET state = 'skipped', error = 'opted out' WHERE id = $1",
            [id, campaignID, chipID])
          continue
        }
        guard let text = render(message.text("vars") ?? "{}") else {
          try connection.query(
            """
            \(passed)
            UPDATE campaign_messages SET state = 'failed', failed_at = now(), error = $4 WHERE id = $1
            """, [id, campaignID, chipID, Self.missingVariable])
          continue
        }
        guard
          try Self.reserveCredit(
            connection, tenantID: tenantID, monthlyCredits: monthlyCredits, messageID: id)
        else {
          try connection.query(
            "UPDATE campaigns SET status = 'paused', pause_reason = 'no_credits' WHERE id = $1", [campaignID])
          try Self.recordEvent(
            connection, tenantID: tenantID, .campaignPaused, subject: .campaign(campaignID), ["reason": "no_credits"])
          // Not claimed after all: every chip may take it once credits are back.
          try Self.rewindCursors(connection, campaignID: campaignID, below: id)
          return .outOfCredits
        }
        let claimed = try connection.query(
          """
          \(passed)
          UPDATE campaign_messages SET state = 'sending', chip_id = $3, rendered = $4, attempts = attempts + 1,
            sending_at = now(), error = NULL, owner = $5
          WHERE id = $1
          RETURNING id, phone, chat_id, rendered, vars::text AS vars, sending_at, attempts
          """, [id, campaignID, chipID, text, owner])
        return .message(try Self.outgoing(claimed[0]))
      }
    }
    guard case .finished = claim else { return claim }
    return .finished(completed: try await completeIfDone(campaignID: campaignID))
  }

  /// What both claims read first, from `FROM` on: campaign `$1` under a share lock (so a pause that
  /// committed first is seen), its tenant (`t`) and plan (`p`), chip `$2` (`h`) with its cursor
  /// (`cc`) and the first pending message after it (`n`, `nextPending`), looked for only when
  /// `onlyIf` holds: a chip that may not claim locks no message another chip would claim.
  static func campaignWithNextPending(onlyIf condition: String = "true") -> String {
    """
    FROM campaigns c JOIN tenants t ON t.id = c.tenant_id JOIN plans p ON p.name = t.plan
      LEFT JOIN campaign_chips cc ON cc.campaign_id = c.id AND cc.chip_id = $2 LEFT JOIN chips h ON h.id = cc.chip_id
      LEFT JOIN LATERAL (
        \(nextPending("c.id", tenant: "c.tenant_id", after: "COALESCE(cc.claim_cursor, 0)", onlyIf: condition))) n
        ON true
    WHERE c.id = $1 FOR SHARE OF c
    """
  }

  /// The first pending message of `campaign` after `after`, locked, skipping those another
  /// chip's claim holds, with whether its recipient opted out or was erased. The arguments are
  /// SQL expressions, so the claim can read it beside the campaign row or on its own; `onlyIf`
  /// refers to nothing of the message, so PostgreSQL checks it once, before it locks anything.
  static func nextPending(_ campaign: String, tenant: String, after: String, onlyIf condition: String = "true")
    -> String
  {
    """
    SELECT m.id AS message_id, m.phone, m.vars::text AS vars,
      (EXISTS (SELECT 1 FROM opt_outs o WHERE o.tenant_id = \(tenant) AND o.phone = m.phone)
        OR EXISTS (SELECT 1 FROM erased_contacts e
                   WHERE e.tenant_id = \(tenant) AND e.phone_hash = contact_hash(\(tenant), m.phone))) AS opted_out
    FROM campaign_messages m
    WHERE m.campaign_id = \(campaign) AND m.state = 'pending' AND m.id > \(after) AND \(condition)
    ORDER BY m.id LIMIT 1 FOR UPDATE SKIP LOCKED
    """
  }

  /// Closes a running campaign none of whose messages is pending or being sent, with its
  /// `campaign.completed` event; false when it is not done (or another chip closed it first).
  /// A transaction of its own, holding no other lock on the campaign row: the chips that reach
  /// the end together queue on the row instead of deadlocking, and the first closes it.
  func completeIfDone(campaignID: Int64) async throws -> Bool {
    try await pool.transaction { connection in
      guard
        let closed = try connection.query(
          """
          UPDATE campaigns SET status = 'completed', completed_at = now()
          WHERE id = $1 AND status = 'running'
            AND NOT EXISTS (SELECT 1 FROM campaign_messages WHERE campaign_id = $1 AND state IN ('pending', 'sending'))
          RETURNING tenant_id
          """, [campaignID]
        ).first
      else { return false }
      let counts = try connection.query(
        """
        SELECT count(*) FILTER (WHERE state IN ('sent', 'delivered', 'read'))::int AS sent,
          count(*) FILTER (WHERE state = 'failed')::int AS failed,
          count(*) FILTER (WHERE state = 'skipped')::int AS skipped
        FROM campaign_messages WHERE campaign_id = $1
        """, [campaignID])[0]
      try Self.recordEvent(
        connection, tenantID: try closed.decode("tenant_id"), .campaignCompleted, subject: .campaign(campaignID),
        [
          "sent": JSONValue(try counts.decode("sent", as: Int.self)),
          "failed": JSONValue(try counts.decode("failed", as: Int.self)),
          "skipped": JSONValue(try counts.decode("skipped", as: Int.self)),
        ])
      return true
    }
  }

  /// The run `owner` takes over a message found in flight (an earlier run was interrupted, or
  /// stalled past its lease): from now on only `owner` may send or record it, so the earlier run,
  /// should it wake, stops at its pre-send check. Counts one more attempt; `sending_at` stays when
  /// the first attempt began, so a look in the chat covers every attempt.
  public func takeOver(messageID: Int64, owner: String) async throws -> OutgoingMessage {
    let rows = try await pool.query(
      """
      UPDATE campaign_messages SET attempts = attempts + 1, owner = $2
      WHERE id = $1 AND state = 'sending' RETURNING id, phone, chat_id, rendered, vars::text AS vars, sending_at, attempts
      """, [messageID, owner])
    guard let row = rows.first else { throw CampaignError.notFound(messageID) }
    return try Self.outgoing(row)
  }

  /// Checked just before the send itself. The message must still be `owner`'s (a run that
  /// stalled past its lease finds another run took it over), and the campaign must still run at
  /// `generation`, so a pause stops sends that were already typing. A pause for want of credits
  /// does not stop a message that already holds its credit: handing it back would leave that
  /// credit unspent with the campaign waiting for credits.
  ///
  /// `chatID`, when this run had to ask WAHA for it, and `text`, when the message holds no text
  /// yet (`OutgoingMessage.variables`), are kept on the message (if still `owner`'s) in the same
  /// statement, so that a retry after an interrupted send neither asks again nor guesses, and
  /// looks in the chat for exactly the text sent. A run interrupted before this point sent
  /// nothing; its retry asks WAHA once more and renders the text again.
  public func sendCheck(
    messageID: Int64, owner: String, campaignID: Int64, generation: Int, chatID: String? = nil, text: String? = nil
  ) async throws -> SendCheck {
    let rows = try await pool.query(
      """
      WITH noted AS (
        UPDATE campaign_messages SET chat_id = coalesce($5, chat_id), rendered = coalesce(rendered, $6)
        WHERE ($5::text IS NOT NULL OR (rendered IS NULL AND $6::text IS NOT NULL)) AND id = $1 AND state = 'sending'
          AND owner IS NOT DISTINCT FROM $2)
      SELECT m.state = 'sending' AND m.owner IS NOT DISTINCT FROM $2 AS mine,
        EXISTS (SELECT 1 FROM campaigns c WHERE c.id = $3 AND c.generation = $4
          AND (c.status = 'running' OR (c.status = 'paused' AND c.pause_reason = 'no_credits'))) AS running
      FROM campaign_messages m WHERE m.id = $1
      """, [messageID, owner, campaignID, generation, chatID, text])
    guard let row = rows.first, try row.decode("mine", as: Bool.self) else { return .notOwner }
    return try row.decode("running", as: Bool.self) ? .send : .stopped
  }

  /// WAHA accepted the message: it is sent, its credit is spent, and the chip counts one more send.
  /// Returns how many this chip has sent for the campaign, or nil when `owner` no longer owns the
  /// message (another run took it over; that run finds it in the chat and records it).
  ///
  /// One statement: `record_sent` (migration 25) takes the ack lock (`lockAcks`), then marks the
  /// message, applies an ack that came first and counts the chip's send, each step seeing what
  /// committed while it waited for the lock.
  @discardableResult
  public func recordSent(
    messageID: Int64, owner: String, campaignID: Int64, chipID: Int64, wahaMessageID: String?, chatID: String
  ) async throws -> Int? {
    let row = try await pool.query(
      "SELECT marked, chip_sent, was_sending FROM record_sent($1, $2, $3, $4, $5, $6)",
      [messageID, wahaMessageID, chatID, owner, campaignID, chipID])[0]
    guard try row.decode("marked", as: Bool.self) || !(try row.decode("was_sending", as: Bool.self)) else {
      return nil  // another run owns the message now
    }
    return try row.decodeIfPresent("chip_sent", as: Int.self) ?? 0
  }

  /// The message cannot be sent (not on WhatsApp, refused): failed, and its credit given back.
  /// Only its owner may say so. `text`, the message as rendered, is kept when the message holds
  /// none yet, so the record shows what was refused.
  public func recordFailed(messageID: Int64, owner: String, reason: String, text: String? = nil) async throws {
    try await pool.transaction { connection in
      let failed = try connection.query(
        """
        UPDATE campaign_messages SET state = 'failed', failed_at = now(), error = $2, rendered = coalesce(rendered, $4)
        WHERE id = $1 AND state = 'sending' AND owner IS NOT DISTINCT FROM $3
        """, [messageID, reason, owner, text]
      ).affected
      if failed > 0 { try Self.refundCredit(connection, messageID: messageID) }
    }
  }

  /// The message was not sent and another chip or a later run may send it: pending again, credit
  /// back. Only its owner may hand it back.
  public func releaseMessage(messageID: Int64, owner: String, reason: String?) async throws {
    try await pool.transaction { connection in
      let released = try connection.query(
        """
        UPDATE campaign_messages SET state = 'pending', chip_id = NULL, sending_at = NULL, error = $2, owner = NULL
        WHERE id = $1 AND state = 'sending' AND owner IS NOT DISTINCT FROM $3
        """, [messageID, reason, owner]
      ).affected
      if released > 0 {
        try Self.refundCredit(connection, messageID: messageID)
        let campaign = try connection.query("SELECT campaign_id FROM campaign_messages WHERE id = $1", [messageID])
        try Self.rewindCursors(connection, campaignID: try campaign[0].decode("campaign_id"), below: messageID)
      }
    }
  }

  /// A message back to pending: every chip's cursor moves below it, so one of them claims it again.
  static func rewindCursors(_ connection: PostgresConnection, campaignID: Int64, below id: Int64) throws {
    try connection.query(
      "UPDATE campaign_chips SET claim_cursor = $2 - 1 WHERE campaign_id = $1 AND claim_cursor >= $2",
      [campaignID, id])
  }

  private static func outgoing(_ row: PostgresRow) throws -> OutgoingMessage {
    let text: String? = try row.decodeIfPresent("rendered")
    return OutgoingMessage(
      id: try row.decode("id"), phone: try row.decode("phone"), chatId: try row.decodeIfPresent("chat_id"),
      text: text ?? "", variables: text == nil ? try row.decodeIfPresent("vars") ?? "{}" : nil,
      sendingAt: try row.decode("sending_at"), attempts: try row.decode("attempts"))
  }
}
