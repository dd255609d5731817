import Foundation
import Postgres
import TestSupport
import Testing

/// The system end to end, one scenario at a time (each starts its own `whago serve`, workers and
/// simulators; together they would crowd two cores): campaigns, warm-ups and billing.
@Suite(.serialized) struct EndToEndTests {}

/// Campaigns sent end to end: `whago serve` takes the campaign and its commands, worker processes
/// send through the WAHA simulator, and the simulator's log of accepted messages is the witness
/// of what really went out.
extension EndToEndTests {
  @Test func aCampaignReachesEveryRecipientOnceAndSkipsOptOuts() async throws {
    try await CampaignRun.with(plan: ["min_send_gap_ms=0", "sends_per_minute=unlimited"], chips: 2) { run in
      let phones = CampaignRun.phones(40)
      let id = try await run.createCampaign(phones: phones)
      // Two recipients answer SAIR after the campaign was created: they must never get it.
      for phone in phones.prefix(2) {
        _ = try await HTTP.send(
          "POST", run.simBase + "/_sim/incoming", headers: ["Content-Type": "application/json"],
          body: Data(#"{"session":"\#(run.sessions[0])","from":"\#(phone.dropFirst())@c.us","body":"SAIR"}"#.utf8))
      }
      try await eventually("the opt-outs to be recorded") {
        try await run.pool.query(
          "SELECT count(*)::int AS n FROM opt_outs o JOIN tenants t ON t.id = o.tenant_id WHERE t.name = $1",
          [run.tenant])[0].decode("n", as: Int.self) == 2
      }
      try run.startWorker()
      try run.startWorker()
      let started = try await run.command(id, "start")
      #expect(started.status == 200)
      try await run.waitFor(id, status: "completed")

      let counts = try await run.sendsPerRecipient()
      #expect(counts.count == 38)
      #expect(counts.values.allSatisfy { $0 == 1 })
      #expect(phones.prefix(2).allSatisfy { counts[$0] == nil })
      #expect(Set(try await run.sent().map(\.session)) == Set(run.sessions), "both chips sent")
      let texts = Set(try await run.sent().map(\.text))
      #expect(texts.contains("Oi Cliente 5, tudo bem?"))
      let (_, tally) = try await run.campaign(id)
      #expect(tally["sent"] == 38)
      #expect(tally["skipped"] == 2)
      #expect(tally["pending"] == 0 && tally["sending"] == 0 && tally["failed"] == 0)
      // Acks from the simulator's webhooks move messages to delivered and read.
      try await eventually("acks to arrive") { try await run.campaign(id).counts["read"] == 38 }
      // A start on a finished campaign is refused, and says why.
      let again = try await run.command(id, "start")
      #expect(again.status == 409)
    }
  }

  @Test func aScheduledCampaignStartsAtItsTimeAndNotBefore() async throws {
    try await CampaignRun.with(plan: ["min_send_gap_ms=0", "sends_per_minute=unlimited"], chips: 1) { run in
      try run.startWorker()
      // Far enough ahead of PostgreSQL's now that creating and starting it cannot reach it first.
      let startAt = try await TestDatabase.now().addingTimeInterval(10).timeIntervalSince1970.rounded(.up)
      let id = try await run.createCampaign(
        phones: CampaignRun.phones(10), startAt: Date(timeIntervalSince1970: startAt))
      let started = try await run.command(id, "start")
      #expect(started.status == 200)
      #expect((try started.json()["status"] as? String) == "scheduled")
      try await run.waitFor(id, status: "completed", within: .seconds(60))
      let times = try await run.sent().map(\.time)
      #expect(times.count == 10)
      #expect(times.allSatisfy { $0 >= Int(startAt * 1000) }, "a message went out before start_at")
    }
  }

  @Test func aWorkerKilledMidCampaignLeavesNobodyUnsentAndNobodySentTwice() async throws {
    try await CampaignRun.with(
      plan: ["min_send_gap_ms=0", "sends_per_minute=unlimited"], chips: 3, simArguments: ["--latency", "5ms"]
    ) { run in
      let phones = CampaignRun.phones(300)
      let id = try await run.createCampaign(phones: phones)
      let doomed = try run.startWorker()
      #expect(try await run.command(id, "start").status == 200)
      try await eventually("sends to be under way") { try await run.sent().count >= 40 }
      doomed.signal(SIGKILL)
      try await doomed.waitForExit()
      let atKill = try await run.sent().count
      #expect(atKill < 300, "the kill landed mid-campaign")
      try run.startWorker()
      try await run.waitFor(id, status: "completed", within: .seconds(120))

      let counts = try await run.sendsPerRecipient()
      #expect(counts.count == 300)
      #expect(counts.filter { $0.value != 1 }.isEmpty, "sent twice: \(counts.filter { $0.value != 1 })")
      #expect(try await run.campaign(id).counts["sent"] == 300)
      // The feed tells it once each, whatever the kill did: started, then completed with the counts.
      var mine: [[String: Any]] = []
      try await eventually("the campaign's events in the feed") {
        let feed = try await HTTP.send("GET", run.serve.base + "/v1/events?limit=1000", key: run.key).json()
        // By type and id: a chip's event (its status, seen by a health check) can have the same id.
        mine = (feed["events"] as? [[String: Any]] ?? []).filter {
          let subject = $0["subject"] as? [String: Any]
          return subject?["type"] as? String == "campaign" && subject?["id"] as? Int == id
        }
        return mine.count >= 2
      }
      #expect(mine.map { $0["type"] as? String } == ["campaign.started", "campaign.completed"], "\(mine)")
      #expect((mine.last?["data"] as? [String: Any])?["sent"] as? Int == 300, "\(mine)")
    }
  }

  @Test func pauseLetsOnlyTheSendsUnderWayFinishAndResumeFinishes() async throws {
    // 4 sends a second per chip, so the campaign is still sending when paused.
    try await CampaignRun.with(plan: ["min_send_gap_ms=250", "sends_per_minute=unlimited"], chips: 2) { run in
      let phones = CampaignRun.phones(80)
      let id = try await run.createCampaign(phones: phones, pace: (250, 300))
      try run.startWorker()
      #expect(try await run.command(id, "start").status == 200)
      try await eventually("sends to be under way") { try await run.sent().count >= 10 }
      let paused = try await run.command(id, "pause")
      #expect(paused.status == 200)
      #expect((try paused.json()["status"] as? String) == "paused")
      // The pause has committed, so PostgreSQL's clock is past it now. What happened after is read
      // from the messages' own timestamps, on that same clock, however long anything took.
      let pausedBy = try await run.pool.query("SELECT clock_timestamp()::text AS t")[0].decode("t", as: String.self)
      // Messages of the campaign meeting `condition`, in which $2 is the moment the pause was past.
      func count(_ condition: String) async throws -> Int {
        let parameters: [any PostgresEncodable] = condition.contains("$2") ? [id, pausedBy] : [id]
        return try await run.pool.query(
          "SELECT count(*)::int AS n FROM campaign_messages WHERE campaign_id = $1 AND \(condition)", parameters
        )[0].decode("n", as: Int.self)
      }
      // A message a chip had already claimed and checked may still go out; nothing else.
      try await eventually("the sends under way at the pause to settle", within: .seconds(60)) {
        try await count("state = 'sending'") == 0
      }
      let lateByChip = try await run.pool.query(
        """
        SELECT chip_id, count(*)::int AS n FROM campaign_messages
        WHERE campaign_id = $1 AND sent_at > $2::timestamptz GROUP BY chip_id
        """, [id, pausedBy])
      for row in lateByChip.rows {
        let chip = try row.decode("chip_id", as: Int64.self)
        let n = try row.decode("n", as: Int.self)
        #expect(n <= 1, "chip \(chip) sent \(n) messages after the pause: more than the one under way")
      }
      #expect(
        try await count("sent_at IS NOT NULL AND sending_at > $2::timestamptz") == 0,
        "a message claimed after the pause was sent")
      // The simulator's log, the witness of what really went out, agrees with what was recorded sent.
      let whilePaused = try await run.sent().count
      #expect(try await count("sent_at IS NOT NULL") == whilePaused)
      #expect(whilePaused < 80)
      // Nothing more goes out while the campaign stays paused (a window for a stray send to show up
      // in, not a bound on how fast anything runs).
      try await Task.sleep(for: .seconds(2))
      #expect(try await run.sent().count == whilePaused)
      #expect(try await run.campaign(id).status == "paused")

      #expect(try await run.command(id, "resume").status == 200)
      try await run.waitFor(id, status: "completed")
      let counts = try await run.sendsPerRecipient()
      #expect(counts.count == 80)
      #expect(counts.values.allSatisfy { $0 == 1 })
    }
  }

  @Test func thePlansPerChipAndPerTenantLimitsHoldCountedFromWhatWAHAAccepted() async throws {
    // Per chip: one message every 200 ms (5/s). Per tenant: 360 a minute (6/s), less than the
    // three chips could send together (15/s), so the tenant bucket is what holds them.
    try await CampaignRun.with(plan: ["min_send_gap_ms=200", "sends_per_minute=360"], chips: 3) { run in
      let id = try await run.createCampaign(phones: CampaignRun.phones(60), pace: (200, 200))
      try run.startWorker()
      try run.startWorker()
      #expect(try await run.command(id, "start").status == 200)
      try await run.waitFor(id, status: "completed")
      let sent = try await run.sent()
      #expect(sent.count == 60)

      for session in run.sessions {
        let times = sent.filter { $0.session == session }.map(\.time).sorted()
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        #expect(gaps.allSatisfy { $0 >= 200 }, "chip \(session) sent \(gaps.filter { $0 < 200 }) ms apart")
      }
      // A bucket of 6 refilled at 6/s: at most 6 + 6·w messages in any window of w seconds.
      let times = sent.map(\.time).sorted()
      for window in [1000, 3000] {
        let worst = times.indices.map { i in times[i...].prefix { $0 - times[i] < window }.count }.max() ?? 0
        #expect(worst <= 6 + 6 * window / 1000, "\(worst) messages within \(window) ms")
      }
    }
  }

  @Test func transientFaultsAtTenPercentStillSendEveryMessageOnce() async throws {
    try await CampaignRun.with(
      plan: ["min_send_gap_ms=0", "sends_per_minute=unlimited"], chips: 2,
      workerEnvironment: ["WHAGO_WAHA_TIMEOUT": "1s"]
    ) { run in
      // 10% of WAHA calls fail: 500s, 429s and timeouts, half of the timeouts after WAHA sent.
      try await run.simConfig(
        #"{"fail_rate": 0.04, "rate_limit_rate": 0.03, "timeout_rate": 0.03, "timeout_hold_ms": 1500}"#)
      let phones = CampaignRun.phones(120)
      let id = try await run.createCampaign(phones: phones)
      try run.startWorker()
      try run.startWorker()
      #expect(try await run.command(id, "start").status == 200)
      try await run.waitFor(id, status: "completed", within: .seconds(180))
      let counts = try await run.sendsPerRecipient()
      #expect(counts.count == 120)
      #expect(counts.filter { $0.value != 1 }.isEmpty, "sent twice: \(counts.filter { $0.value != 1 })")
      #expect(try await run.campaign(id).counts["sent"] == 120)
      // The faults really happened: some messages needed more than one attempt.
      let retried = try await run.pool.query(
        "SELECT count(*)::int AS n FROM campaign_messages WHERE campaign_id = $1 AND attempts > 1", [id])
      #expect(try retried[0].decode("n", as: Int.self) > 0)
      // Each recipient got its own text, including those whose first attempt failed before the
      // pre-send check (claimed, never rendered into the row, rendered again by the retry), and
      // every sent message keeps the text sent.
      let expected = Dictionary(uniqueKeysWithValues: phones.enumerated().map { ($1, "Oi Cliente \($0), tudo bem?") })
      let wrong = try await run.sent().filter { expected["+" + $0.chatId.prefix(while: { $0 != "@" })] != $0.text }
      #expect(wrong.isEmpty, "texts that are not their recipient's: \(wrong.prefix(3))")
      let unkept = try await run.pool.query(
        """
        SELECT count(*)::int AS n FROM campaign_messages
        WHERE campaign_id = $1 AND (rendered IS NULL OR rendered <> 'Oi ' || (vars->>'nome') || ', tudo bem?')
        """, [id])
      #expect(try unkept[0].decode("n", as: Int.self) == 0)
    }
  }

  @Test func creditsRunOutPauseTheCampaignAndAPackResumesIt() async throws {
    try await CampaignRun.with(
      plan: ["min_send_gap_ms=0", "sends_per_minute=unlimited", "monthly_credits=10"], chips: 2
    ) { run in
      let phones = CampaignRun.phones(16)
      let id = try await run.createCampaign(phones: phones)
      try run.startWorker()
      #expect(try await run.command(id, "start").status == 200)
      try await eventually("the campaign to pause at zero credits", within: .seconds(60)) {
        try await run.campaign(id).status == "paused"
      }
      let paused = try await HTTP.send("GET", run.serve.base + "/v1/campaigns/\(id)", key: run.key).json()
      #expect(paused["pause_reason"] as? String == "no_credits")
      // A message already handed to WAHA when the credits ran out still lands; nothing after it.
      try await eventually("the last paid message to land") { try await run.sent().count >= 10 }
      try await Task.sleep(for: .milliseconds(500))
      #expect(try await run.sent().count == 10, "exactly the plan's 10 credits were spent")
      let events = try await run.pool.query(
        """
        SELECT kind FROM events e JOIN tenants t ON t.id = e.tenant_id WHERE t.name = $1 ORDER BY e.id
        """, [run.tenant]
      ).rows.map { try $0.decode("kind", as: String.self) }
      #expect(events.filter { $0 == "credits.low" }.count == 1)
      #expect(events.contains("campaign.paused"))

      let added = try await run.whago(["credits", "add", run.tenant, "4", "--ref", "order-\(id)"])
      #expect(added.status == 0)
      #expect(added.output.contains("resumed campaign(s) \(id)"))
      // The same purchase twice is granted once.
      let twice = try await run.whago(["credits", "add", run.tenant, "4", "--ref", "order-\(id)"])
      #expect(twice.status != 0)
      #expect(twice.output.contains("already granted"))
      try await eventually("the pack to be spent", within: .seconds(60)) { try await run.sent().count == 14 }
      try await eventually("the campaign to pause again at zero credits") {
        try await run.campaign(id).status == "paused"
      }
      #expect(try await run.sent().count == 14)
      let charged = try await run.pool.query(
        """
        SELECT count(*)::int AS n, coalesce(sum(delta), 0)::int AS total FROM credit_ledger l
        JOIN tenants t ON t.id = l.tenant_id WHERE t.name = $1 AND reason = 'message'
        """, [run.tenant])[0]
      #expect(try charged.decode("n", as: Int.self) == 14)
      #expect(try charged.decode("total", as: Int.self) == -14)
    }
  }

  @Test func aSmallCampaignIsNotHeldBehindAnotherTenantsBigOne() async throws {
    try await CampaignRun.with(
      plan: ["min_send_gap_ms=0", "sends_per_minute=unlimited"], chips: 3, simArguments: ["--latency", "5ms"]
    ) { big in
      // Three chips sending one message every 20 ms each: busy for 10 s, without starving the machine.
      let bigID = try await big.createCampaign(phones: CampaignRun.phones(1500), pace: (20, 20))
      try big.startWorker()
      #expect(try await big.command(bigID, "start").status == 200)
      try await eventually("the big campaign to be sending") { try await big.sent().count >= 50 }

      // Another tenant's small campaign on the same queue and the same workers.
      try await CampaignRun.with(
        plan: ["min_send_gap_ms=0", "sends_per_minute=unlimited"], chips: 1, sharingQueueWith: big,
        label: "smallTenant"
      ) { small in
        let smallID = try await small.createCampaign(phones: CampaignRun.phones(5))
        #expect(try await small.command(smallID, "start").status == 200)
        try await small.waitFor(smallID, status: "completed", within: .seconds(60))
        let bigDone = try await big.sent().count
        #expect(bigDone < 1500, "the small campaign finished while the big one was still sending (\(bigDone) of 1500)")
        #expect(try await small.sendsPerRecipient().count == 5)
      }
    }
  }
}
