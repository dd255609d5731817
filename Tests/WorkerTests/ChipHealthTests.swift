import Foundation
import JobQueue
import Postgres
import RedisClient
import TestSupport
import Testing

extension WorkerProcessTests {
  /// `chips.health` run by a real worker against the WAHA simulator: each chip gets the status its
  /// WAHA reports, the moment it stopped working, and nothing changes when its WAHA is unreachable.
  @Suite struct ChipHealthTests {
    @Test func theHealthCheckRecordsWhatWAHASays() async throws {
      try await TestDatabase.migrate()
      let tenant = try await TestDatabase.tenant(plan: "business")
      let (sim, simPort) = try await Whago.server(
        ["sim", "waha", "--sessions", "\(tenant)-a", "--api-key", "k"], label: "waha-sim")
      defer { sim.signal(SIGKILL) }
      let simBase = "http://127.0.0.1:\(simPort)"
      try await eventually("the simulator to answer") {
        (try? await HTTP.send("GET", simBase + "/api/sessions", headers: ["X-Api-Key": "k"]))?.status == 200
      }
      let pool = try TestDatabase.pool(size: 1)
      defer { pool.close() }
      let deadPort = try ClosedPort()
      let ids = try await pool.query(
        """
        INSERT INTO chips (tenant_id, name, waha_url, session, waha_api_key)
        SELECT t.id, c.name, c.url, c.session, 'k' FROM tenants t,
          (VALUES ('a', $2, $3), ('missing', $2, $4), ('down', $5, $3)) AS c (name, url, session)
        WHERE t.name = $1 RETURNING id, name
        """, [tenant, simBase, "\(tenant)-a", "\(tenant)-nosuch", "http://127.0.0.1:\(deadPort.port)"])
      var chip: [String: Int64] = [:]
      for row in ids.rows { chip[try row.decode("name")] = try row.decode("id") }

      let queue = TestRedis.queue()
      let catalog = try TestCatalog(
        """
        {"queues": {"\(queue)": {"weight": 1}},
         "jobs": {"chips.health": {"queue": "\(queue)", "max_attempts": 1, "timeout_ms": 55000},
                  "chip.check": {"queue": "\(queue)", "max_attempts": 1, "timeout_ms": 15000, "idempotency_window_ms": 1}}}
        """)
      let worker = try catalog.worker(
        redis: try TestRedis.url.description, queues: queue, concurrency: 4,
        extra: ["--database-url", try TestDatabase.urlText])
      defer { worker.signal(SIGKILL) }
      let broker = try TestRedis.broker()
      func status(_ name: String) async throws -> (String, Bool) {
        let row = try await pool.query(
          "SELECT status, stopped_working_at IS NOT NULL AS stopped FROM chips WHERE id = $1", [chip[name]!])[0]
        return (try row.decode("status"), try row.decode("stopped"))
      }
      // The fan-out, then every chip's own check (the queue is this test's alone).
      func check() async throws {
        let id = try await broker.enqueue(JobSpec(type: "chips.health", queue: queue, maxAttempts: 1)).id
        try await eventually("the health check to finish") {
          let stats = try await broker.stats(queues: [queue])[0]
          return try await broker.job(id: id).state == .done && stats.ready == 0 && stats.active == 0
            && stats.scheduled == 0
        }
      }

      // WAHA says the session stopped: recorded with the moment it stopped working.
      _ = try await HTTP.send(
        "POST", simBase + "/_sim/sessions/\(tenant)-a/status", headers: ["Content-Type": "application/json"],
        body: Data(#"{"status":"STOPPED"}"#.utf8))
      try await check()
      #expect(try await status("a") == ("STOPPED", true))
      #expect(try await status("missing") == ("FAILED", true))
      #expect(try await status("down") == ("UNKNOWN", false))

      // Restarted, it works again and the stop is cleared.
      _ = try await HTTP.send("POST", simBase + "/api/sessions/\(tenant)-a/restart", headers: ["X-Api-Key": "k"])
      try await eventually("the session to work again") {
        let reply = try await HTTP.send("GET", simBase + "/api/sessions/\(tenant)-a", headers: ["X-Api-Key": "k"])
        return (try? reply.json()["status"] as? String) == "WORKING"
      }
      try await check()
      #expect(try await status("a") == ("WORKING", false))

      // The down chip's WAHA has not answered two checks; the third in a row tells the tenant,
      // once, and the status stays the last one known.
      func unreachable() async throws -> (checks: Int, events: Int) {
        let row = try await pool.query(
          """
          SELECT unreachable_checks AS checks,
            (SELECT count(*)::int FROM events WHERE kind = 'chip.unreachable' AND subject_id = $1) AS events
          FROM chips WHERE id = $1
          """, [chip["down"]!])[0]
        return (try row.decode("checks"), try row.decode("events"))
      }
      #expect(try await unreachable() == (2, 0))
      try await check()
      #expect(try await unreachable() == (3, 1))
      try await check()
      #expect(try await unreachable() == (4, 1))
      #expect(try await status("down") == ("UNKNOWN", false))

      // A WAHA that takes connections and never answers (here a socket that listens and reads
      // nothing) holds its own check only: the other chip's status is recorded while it hangs.
      let mute = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      defer { close(mute) }
      var address = sockaddr_in()
      address.sin_family = sa_family_t(AF_INET)
      address.sin_addr.s_addr = inet_addr("127.0.0.1")
      var length = socklen_t(MemoryLayout<sockaddr_in>.size)
      _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(mute, $0, length) }
      }
      listen(mute, 16)
      _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(mute, $0, &length) }
      }
      let mutePort = Int(UInt16(bigEndian: address.sin_port))
      try await pool.query(
        """
        INSERT INTO chips (tenant_id, name, waha_url, session, waha_api_key)
        SELECT id, 'mute', $2, $3, 'k' FROM tenants WHERE name = $1
        """, [tenant, "http://127.0.0.1:\(mutePort)", "\(tenant)-mute"])
      _ = try await HTTP.send(
        "POST", simBase + "/_sim/sessions/\(tenant)-a/status", headers: ["Content-Type": "application/json"],
        body: Data(#"{"status":"STOPPED"}"#.utf8))
      _ = try await broker.enqueue(JobSpec(type: "chips.health", queue: queue, maxAttempts: 1))
      try await eventually("the answering chip's status to be recorded") { try await status("a").0 == "STOPPED" }
      #expect(try await broker.stats(queues: [queue])[0].active >= 1, "the mute chip's check is still waiting")
      try await eventually("the mute chip's check to give up", within: .seconds(60)) {
        let stats = try await broker.stats(queues: [queue])[0]
        return stats.ready == 0 && stats.active == 0
      }
    }
  }
}
