import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

extension WorkerProcessTests {
  /// Redis Sentinel: a worker and `whago serve` given only the sentinels (`redis+sentinel://…`)
  /// find the master, and when it is SIGKILLed they follow the failover to the promoted replica
  /// without being restarted: jobs submitted before and after it all run.
  @Suite struct SentinelFailoverTests {
    @Test func aWorkerAndServeFollowAFailoverThroughTheSentinels() async throws {
      let group = try await SentinelGroup.start()
      defer { group.stop() }
      let broker = Broker(redis: RedisClient(url: try RedisURL(group.url)))
      try await TestDatabase.migrate()
      let tenant = try await TestDatabase.tenant(plan: "enterprise")
      let service = try await TestDatabase.apiKey(tenant: nil)

      let worker = try Whago.worker(redis: group.url, queues: "diag", concurrency: 8)
      defer { worker.signal(SIGKILL) }
      try await ServeProcess.with(environment: ["WHAGO_REDIS_URL": group.url]) { serve in
        func submitBatch(_ count: Int) async throws -> [String] {
          let reply = try await HTTP.send(
            "POST", serve.base + "/v1/jobs/batch", key: service, tenant: tenant,
            json: ["jobs": (0..<count).map { _ in ["type": "diag.noop"] }])
          guard reply.status == 202 else { return [] }
          return (try reply.json()["jobs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        }
        let before = try await submitBatch(50)
        #expect(before.count == 50)
        try await eventually("the first jobs to run on the master", within: .seconds(60)) {
          try await broker.stats(queues: ["diag"])[0].processed >= 50
        }
        // Everything so far is on the replica too, then the master dies.
        let master = group.client(port: group.masterPort)
        #expect((try await master.send("WAIT", "1", "5000").int ?? 0) >= 1)
        master.close()
        group.master.signal(SIGKILL)

        try await eventually("the sentinels to promote the replica", within: .seconds(60), every: .milliseconds(100)) {
          try await group.currentMasterPort() == group.replicaPort
        }
        // serve reconnects through the sentinels: a batch is accepted once the new master answers.
        var after: [String] = []
        try await eventually("serve to accept jobs on the new master", within: .seconds(60), every: .milliseconds(200))
        {
          after = try await submitBatch(50)
          return after.count == 50
        }
        try await eventually("the worker to run them on the new master", within: .seconds(60)) {
          for id in after where (try? await broker.job(id: id).state) != .done { return false }
          return true
        }
        for id in before { #expect(try await broker.job(id: id).state == .done, "\(id) was lost in the failover") }
      }
      #expect(worker.isRunning, "\(worker.output.suffix(2000))")
      #expect(worker.output.contains("reconnected to Redis"))
    }
  }
}
