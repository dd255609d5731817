import Foundation
import Postgres
import RedisClient
import TestSupport
import Testing

/// serve and the workers behind PgBouncer in transaction pooling, as production runs them: every
/// request, job and webhook reaches PostgreSQL through it, and nothing may rely on the session.
extension EndToEndTests {
  @Test(
    .enabled(
      if: TestPgBouncer.isRunning, "WHAGO_TEST_PGBOUNCER_URL is not set: run with scripts/test, which starts PgBouncer")
  )
  func aCampaignThroughPgBouncerReachesEveryRecipientOnce() async throws {
    let database = try TestPgBouncer.environment
    let migrated = try await Whago.run(["migrate"], redis: try TestRedis.url.description, environment: database)
    #expect(migrated.status == 0, "\(migrated.output)")
    try await CampaignRun.with(
      plan: ["min_send_gap_ms=0", "sends_per_minute=unlimited"], chips: 2, databaseEnvironment: database
    ) { run in
      let phones = CampaignRun.phones(60)
      let id = try await run.createCampaign(phones: phones)
      // One recipient answers SAIR (a webhook serve records) before the campaign starts.
      _ = try await HTTP.send(
        "POST", run.simBase + "/_sim/incoming", headers: ["Content-Type": "application/json"],
        body: Data(#"{"session":"\#(run.sessions[0])","from":"\#(phones[0].dropFirst())@c.us","body":"SAIR"}"#.utf8))
      try await eventually("the opt-out to be recorded") {
        try await run.pool.query(
          "SELECT count(*)::int AS n FROM opt_outs o JOIN tenants t ON t.id = o.tenant_id WHERE t.name = $1",
          [run.tenant])[0].decode("n", as: Int.self) == 1
      }
      try run.startWorker()
      try run.startWorker()
      #expect(try await run.command(id, "start").status == 200)
      try await run.waitFor(id, status: "completed")

      let counts = try await run.sendsPerRecipient()
      #expect(counts.count == 59)
      #expect(counts.filter { $0.value != 1 }.isEmpty, "sent twice: \(counts.filter { $0.value != 1 })")
      #expect(counts[phones[0]] == nil)
      let (_, tally) = try await run.campaign(id)
      #expect(tally["sent"] == 59)
      #expect(tally["skipped"] == 1)
      #expect(tally["pending"] == 0 && tally["sending"] == 0 && tally["failed"] == 0)
      // The simulator's acks, webhooks that serve writes through PgBouncer too.
      try await eventually("acks to arrive") { try await run.campaign(id).counts["read"] == 59 }
    }
  }
}
