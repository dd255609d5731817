import Foundation
import JobCatalog
import JobContracts
import JobQueue
import Postgres
import RetentionJobs
import Store
import TestSupport
import Testing

/// `retention.sweep` run by a worker against the real PostgreSQL and Redis: what outlived its
/// retention goes, what did not stays, and a second run changes nothing more.
@Suite struct RetentionSweepTests {
  @Test func whatOutlivedItsRetentionGoesAndNothingElse() async throws {
    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool(size: 2)
    defer { pool.close() }
    let store = Store(pool: pool)
    let plan = TestDatabase.tenantName()
    try await TestDatabase.whago(["plan", "set", plan, "--from", "business", "retention_days=1"])
    let shortLived = try await TestDatabase.tenant(plan: plan, "retention-short")
    let forever = try await TestDatabase.tenant(plan: "enterprise", "retention-forever")  // retention_days null

    // Campaigns finished 2 days and 12 hours ago (by PostgreSQL's clock) for the 1-day plan, and
    // 400 days ago for a plan that keeps data for good.
    func campaign(_ tenant: String, finishedAgo: String, phone: String) async throws -> Int64 {
      let id: Int64 = try await pool.query(
        """
        INSERT INTO campaigns (tenant_id, name, template, status, started_at, completed_at)
        SELECT id, 'retention', 'Oi {{nome}}', 'completed', now() - $2::interval, now() - $2::interval
        FROM tenants WHERE name = $1 RETURNING id
        """, [tenant, finishedAgo]
      ).rows[0].decode("id")
      try await pool.query(
        """
        INSERT INTO campaign_messages (campaign_id, phone, chat_id, vars, rendered, state, sent_at, delivered_at)
        VALUES ($1, $2, substr($2, 2) || '@c.us', '{"nome": "Ana"}', 'Oi Ana', 'delivered', now(), now()),
               ($1, $3, NULL, '{"nome": "Bia"}', NULL, 'failed', NULL, NULL)
        """, [id, phone, phone.dropLast() + "9"])
      return id
    }
    let aged = try await campaign(shortLived, finishedAgo: "2 days", phone: "+5511988880001")
    let recent = try await campaign(shortLived, finishedAgo: "12 hours", phone: "+5511988880002")
    let kept = try await campaign(forever, finishedAgo: "400 days", phone: "+5511988880003")
    let tag = UUID().uuidString
    try await pool.query(
      """
      INSERT INTO webhook_events (source, event_id, event_type, received_at)
      VALUES ('stripe', 'evt_old_' || $1, 'x', now() - interval '40 days'), ('stripe', 'evt_new_' || $1, 'x', now() - interval '1 day')
      """, [tag])
    // The tenant's events: one 100 days old, one a day old. Of a kind the feed and the webhook
    // dispatcher know, as every event they read must be.
    try await pool.query(
      """
      INSERT INTO events (tenant_id, kind, payload, created_at)
      SELECT id, 'credits.low', jsonb_build_object('age', a.age), now() - a.age::interval
      FROM tenants, (VALUES ('100 days'), ('1 day')) AS a (age) WHERE name = $1
      """, [shortLived])

    // A queue that keeps 3 dead letters, with 5.
    let queue = "retention-\(UUID().uuidString.prefix(8))"
    let catalog = try JobCatalog.parse(
      Data(
        #"""
        {"queues": {"\#(queue)": {"weight": 1, "dead_retention": {"age_ms": 86400000, "count": 3}}},
         "jobs": {"retention.sweep": {"queue": "\#(queue)", "max_attempts": 1},
                  "diag.fail": {"queue": "\#(queue)", "max_attempts": 1}}}
        """#.utf8), source: "test")
    let broker = try TestRedis.broker()
    _ = try await broker.enqueue(
      (0..<5).map { _ in JobSpec(type: "diag.fail", payload: #"{"times":9}"#, queue: queue, maxAttempts: 1) })
    for job in try await broker.fetch(queue: queue, limit: 5, lease: .seconds(60), token: "seed").jobs {
      #expect(try await broker.fail(job, error: "gateway said no", retryAfter: nil) == .dead)
    }
    #expect(try await broker.stats(queues: [queue])[0].dead == 5)

    var registry = HandlerRegistry()
    RetentionJobs.register(in: &registry, store: store, catalog: catalog)
    func sweep() async throws {
      try await InProcessWorker.with(catalog: catalog, registry: registry) { broker in
        let id = try await broker.enqueue(JobSpec(type: "retention.sweep", queue: queue)).id
        try await eventually("the sweep to finish", within: .seconds(60)) {
          try await broker.job(id: id).state == .done
        }
      }
    }
    try await sweep()

    struct Message: Decodable, Equatable {
      var phone: String?
      var chatId: String?
      var vars: String
      var rendered: String?
      var state: String
    }
    func messages(_ campaign: Int64) async throws -> [Message] {
      try await pool.query(
        "SELECT phone, chat_id, vars::text AS vars, rendered, state FROM campaign_messages WHERE campaign_id = $1 ORDER BY id",
        [campaign]
      ).decode(Message.self)
    }
    // The aged campaign keeps its rows and their states, without anything personal.
    #expect(
      try await messages(aged) == [
        Message(phone: nil, chatId: nil, vars: "{}", rendered: nil, state: "delivered"),
        Message(phone: nil, chatId: nil, vars: "{}", rendered: nil, state: "failed"),
      ])
    let removedAt = try await pool.query(
      "SELECT personal_data_removed_at IS NOT NULL AS removed FROM campaigns WHERE id = ANY($1::bigint[]) ORDER BY id",
      ["{\(aged),\(recent),\(kept)}"]
    ).rows.map { try $0.decode("removed", as: Bool.self) }
    #expect(removedAt == [true, false, false])
    // The others are as they were.
    #expect(try await messages(recent).map(\.phone) == ["+5511988880002", "+5511988880009"])
    #expect(try await messages(kept).first?.rendered == "Oi Ana")
    let events = try await pool.query(
      "SELECT event_id FROM webhook_events WHERE event_id LIKE '%' || $1 ORDER BY event_id", [tag]
    ).rows.map { try $0.decode("event_id", as: String.self) }
    #expect(events == ["evt_new_\(tag)"])
    let feed = try await pool.query(
      """
      SELECT payload->>'age' AS age FROM events e JOIN tenants t ON t.id = e.tenant_id
      WHERE t.name = $1 AND kind = 'credits.low' AND payload ? 'age'
      """, [shortLived]
    ).rows.map { try $0.decode("age", as: String.self) }
    #expect(feed == ["1 day"])
    let stats = try await broker.stats(queues: [queue])[0]
    #expect(stats.dead == 3)

    // Again: nothing more goes.
    try await sweep()
    #expect(try await messages(recent).map(\.phone) == ["+5511988880002", "+5511988880009"])
    #expect(try await broker.stats(queues: [queue])[0].dead == 3)
    #expect(
      try await pool.query("SELECT count(*)::int AS n FROM webhook_events WHERE event_id LIKE '%' || $1", [tag])
        .rows[0].decode("n", as: Int.self) == 1)
  }
}
