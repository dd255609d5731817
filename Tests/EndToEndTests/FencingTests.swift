import Foundation
import JobQueue
import Postgres
import TestSupport
import Testing

/// Never twice over time and under stalls: a chip has one sender however late a start is asked
/// again, and a worker frozen past its lease while typing wakes up to find the message is no
/// longer its own. The WAHA simulator's log of accepted messages is the witness.
extension EndToEndTests {
  @Test func aStartAskedAfterTheKeyWindowMakesNoSecondSender() async throws {
    // Keys of 300 ms: every window has long run out when start is asked again.
    try await CampaignRun.with(
      plan: ["min_send_gap_ms=0", "sends_per_minute=unlimited"], chips: 2,
      catalogEdit: { original in
        var catalog = original
        var jobs = catalog["jobs"] as? [String: Any] ?? [:]
        for type in ["campaign.start", "campaign.send"] {
          var job = jobs[type] as? [String: Any] ?? [:]
          job["idempotency_window_ms"] = 300
          jobs[type] = job
        }
        catalog["jobs"] = jobs
        return catalog
      }
    ) { run in
      let phones = CampaignRun.phones(12)
      let id = try await run.createCampaign(phones: phones, pace: (1_000, 1_200))
      try run.startWorker()
      #expect(try await run.command(id, "start").status == 200)
      let broker = try TestRedis.broker()
      // One campaign.start, then one campaign.send per chip.
      try await eventually("both senders to be sending") {
        let enqueued = try await broker.stats(queues: [run.queue])[0].enqueued
        let sent = try await run.sent().count
        return enqueued == 3 && sent >= 2
      }
      for _ in 0..<2 {
        try await Task.sleep(for: .milliseconds(600))
        #expect(try await run.command(id, "start").status == 200)
      }
      try await run.waitFor(id, status: "completed")
      // Two more campaign.start jobs (their keys had run out), and not one more sender.
      let enqueued = try await broker.stats(queues: [run.queue])[0].enqueued
      #expect(enqueued == 5, "\(enqueued) jobs enqueued")
      let counts = try await run.sendsPerRecipient()
      #expect(counts.count == 12 && counts.values.allSatisfy { $0 == 1 }, "\(counts)")
    }
  }

  @Test func aWorkerFrozenPastItsLeaseWhileTypingNeverSendsTwice() async throws {
    try await CampaignRun.with(plan: ["min_send_gap_ms=0", "sends_per_minute=unlimited"], chips: 1) { run in
      let phones = CampaignRun.phones(3)
      // 5 s of typing per message (40 characters at 2.5 to 4.5 a second, capped by the pace's 5 s):
      // more than twice the 2 s lease, and time enough to freeze the worker while it types.
      let id = try await run.createCampaign(
        phones: phones, template: "Oi {{nome}}, esta mensagem demora a ser digitada.", pace: (5_000, 5_500))
      let frozen = try run.startWorker()
      #expect(try await run.command(id, "start").status == 200)
      var messageID: Int64 = 0
      // Frozen mid-typing, for longer than its 2 s lease: another worker takes the job and sends.
      // The row read as `sending` may have been sent before the signal landed (on a loaded machine
      // the poll and the signal are far apart): then the worker is thawed and the next one is taken.
      try await eventually("a message to be frozen in flight", within: .seconds(120)) {
        let rows = try await run.pool.query(
          "SELECT id FROM campaign_messages WHERE campaign_id = $1 AND state = 'sending'", [Int64(id)])
        guard let row = rows.first else { return false }
        messageID = try row.decode("id")
        frozen.signal(SIGSTOP)
        let state = try await run.pool.query("SELECT state FROM campaign_messages WHERE id = $1", [messageID])[0]
          .decode("state", as: String.self)
        if state == "sending" { return true }
        frozen.signal(SIGCONT)
        return false
      }
      try run.startWorker()
      try await eventually("the other worker to send the message", within: .seconds(90)) {
        try await run.pool.query("SELECT state FROM campaign_messages WHERE id = $1", [messageID])[0].decode(
          "state", as: String.self) == "sent"
      }
      #expect(try await run.sent().count == 1)
      frozen.signal(SIGCONT)
      // Thawed, it finds the message is not its own any more (or the job is not: its lease keeper,
      // its pre-send check and its failed database call race) and stops without sending.
      do {
        try await eventually("the thawed worker to stop its run", within: .seconds(60)) {
          frozen.output.contains("its lease was lost to another run")
        }
      } catch {
        Issue.record("\(error); the thawed worker's log ends with:\n\(frozen.output.suffix(4_000))")
        throw error
      }
      try await run.waitFor(id, status: "completed", within: .seconds(120))
      let counts = try await run.sendsPerRecipient()
      #expect(counts.count == 3 && counts.values.allSatisfy { $0 == 1 }, "\(counts)")
      // Claimed by the frozen run, then taken over: two attempts, one send.
      let attempts = try await run.pool.query("SELECT attempts FROM campaign_messages WHERE id = $1", [messageID])
      #expect(try attempts[0].decode("attempts", as: Int.self) == 2)
    }
  }
}
