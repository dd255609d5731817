import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

extension EndToEndTests {
  /// A worker and `whago serve` logged in as the least-privilege users of deploy/redis/users.acl,
  /// on a Redis of their own: jobs submitted, run, retried, failed, delayed and cancelled, the
  /// dashboard read and a bulk action run, and Redis's ACL LOG holds no denial. The users are
  /// really that narrow: anything else they try is refused.
  @Suite struct RedisACLTests {
    /// The `user` lines of the shipped ACL file, each as name and rules, with `password` in place
    /// of its placeholder.
    static func users(password: String) throws -> [(name: String, rules: [String])] {
      let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
      let text = try String(
        contentsOf: root.appendingPathComponent("deploy/redis/users.acl"), encoding: .utf8)
      return text.split(separator: "\n").filter { $0.hasPrefix("user ") }.map { line in
        let words = line.split(separator: " ").map(String.init)
        return (words[1], words.dropFirst(2).map { $0.hasPrefix(">") ? ">" + password : $0 })
      }
    }

    @Test func aWorkerAndServeRunAsTheirACLUsersAndRedisDeniesThemNothing() async throws {
      let (server, admin) = try await RedisServer.running()
      let password = "pw-\(UUID().uuidString)"
      let users = try Self.users(password: password)
      #expect(users.map(\.name) == ["whago-worker", "whago-serve"])
      for user in users {
        #expect(try await admin.redis.send(RedisCommand("ACL", ["SETUSER", user.name] + user.rules)).string == "OK")
      }
      func url(_ user: String) -> String { "\(server.urlString)&user=\(user)&password=\(password)" }

      try await TestDatabase.migrate()
      let tenant = try await TestDatabase.tenant(plan: "enterprise")
      let service = try await TestDatabase.apiKey(tenant: nil)
      let created = try await TestDatabase.whago(["apikey", "create", "--admin", "--quiet"])
      let adminKey = try #require(created.split(separator: "\n").last.map(String.init))

      let worker = try Whago.worker(redis: url("whago-worker"), queues: "diag", concurrency: 8)
      defer { worker.signal(SIGKILL) }
      try await ServeProcess.with(environment: ["WHAGO_REDIS_URL": url("whago-serve")]) { serve in
        func submit(_ job: [String: Any], headers: [String: String] = [:]) async throws -> String {
          let reply = try await HTTP.send(
            "POST", serve.base + "/v1/jobs", key: service, tenant: tenant, json: job, headers: headers)
          #expect(reply.status == 202, "\(reply.text)")
          return try reply.json()["id"] as? String ?? ""
        }
        for n in 0..<20 { _ = try await submit(["type": "diag.echo", "payload": ["n": n]]) }
        let keyed = try await submit(["type": "diag.echo"], headers: ["Idempotency-Key": "acl-once"])
        #expect(try await submit(["type": "diag.echo"], headers: ["Idempotency-Key": "acl-once"]) == keyed)
        let doomed = try await submit(["type": "diag.fail", "payload": ["times": 9], "max_attempts": 2])
        let later = try await submit(["type": "diag.noop", "delay_ms": 3_600_000])
        let batch = try await HTTP.send(
          "POST", serve.base + "/v1/jobs/batch", key: service, tenant: tenant,
          json: ["jobs": (0..<5).map { _ in ["type": "diag.noop"] }])
        #expect(batch.status == 202, "\(batch.text)")

        try await eventually("the worker to run the jobs as whago-worker", within: .seconds(60)) {
          let stats = try await admin.stats(queues: ["diag"])[0]
          return stats.processed >= 26 && stats.dead == 1
        }
        #expect(try await admin.job(id: doomed).attempts == 2)

        // The dashboard and the job API, as whago-serve.
        for path in [
          "/dashboard/api/overview", "/dashboard", "/dashboard/busy", "/dashboard/scheduled", "/dashboard/retries",
          "/dashboard/dead?queue=diag", "/dashboard/limits", "/dashboard/charts?queue=diag", "/dashboard/schedules",
          "/dashboard/jobs/\(doomed)",
        ] {
          let page = try await HTTP.send("GET", serve.base + path, key: adminKey)
          #expect(page.status == 200, "\(path): \(page.status) \(page.text.prefix(300))")
        }
        #expect(
          try await HTTP.send("GET", serve.base + "/v1/jobs/\(keyed)", key: service, tenant: tenant).status == 200)
        let bulk = try await HTTP.send(
          "POST", serve.base + "/dashboard/bulk",
          headers: ["Authorization": "Bearer \(adminKey)", "Content-Type": "application/x-www-form-urlencoded"],
          body: Data("set=dead&verb=run&queue=diag".utf8))
        #expect([200, 303].contains(bulk.status), "\(bulk.status) \(bulk.text.prefix(300))")
        try await eventually("the retried job to die again", within: .seconds(60)) {
          let job = try await admin.job(id: doomed)
          return job.state == .dead && job.attempts == 2 && job.history.count == 4
        }
        let cancel = try await HTTP.send("DELETE", serve.base + "/v1/jobs/\(later)", key: service, tenant: tenant)
        #expect(cancel.status == 200 || cancel.status == 204, "\(cancel.text)")
        #expect(try await admin.job(id: later).state == .cancelled)
      }
      #expect(worker.isRunning, "\(worker.output.suffix(2000))")

      // Nothing either user did was refused.
      let denials = try await admin.redis.send("ACL", "LOG").array ?? []
      #expect(denials.isEmpty, "Redis refused whago: \(denials)")

      // And the users are no wider than the file says.
      let asWorker = RedisClient(url: try RedisURL(url("whago-worker")))
      defer { asWorker.close() }
      #expect(try await asWorker.send("PING").string == "PONG")
      await #expect(throws: RedisError.self) { try await asWorker.send("KEYS", "*") }
      await #expect(throws: RedisError.self) { try await asWorker.send("GET", "someone-else:key") }
      await #expect(throws: RedisError.self) { try await asWorker.send("SCAN", "0") }
      await #expect(throws: RedisError.self) { try await asWorker.send("FLUSHALL") }
      let wrong = RedisClient(url: try RedisURL("\(server.urlString)&user=whago-serve&password=nope"))
      defer { wrong.close() }
      await #expect(throws: RedisError.self) { try await wrong.send("PING") }
    }
  }
}
