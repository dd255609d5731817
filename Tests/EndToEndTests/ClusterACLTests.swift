import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

extension EndToEndTests {
  /// The least-privilege users of deploy/redis/users.acl on Redis Cluster: set on every node (ACLs
  /// are per node), a worker and `whago serve` logged in as them through `redis+cluster://` read
  /// the slot map, run scripts by SHA (sending the source to a master that lacks one), submit,
  /// run, retry and dead-letter jobs; no node's ACL LOG holds a denial.
  @Test func aWorkerAndServeRunAsTheirACLUsersOnAClusterAndNoNodeDeniesThemAnything() async throws {
    let cluster = try await ClusterGroup.start()
    defer { cluster.stop() }
    let password = "pw-\(UUID().uuidString)"
    for port in cluster.ports {
      let node = cluster.client(port: port)
      defer { node.close() }
      for user in try RedisACLTests.users(password: password) {
        #expect(try await node.send(RedisCommand("ACL", ["SETUSER", user.name] + user.rules)).string == "OK")
      }
    }
    func url(_ user: String) -> String {
      "redis+cluster://\(user):\(password)@" + cluster.ports.map { "127.0.0.1:\($0)" }.joined(separator: ",") + "/"
    }
    try await TestDatabase.migrate()
    let tenant = try await TestDatabase.tenant(plan: "enterprise")
    let service = try await TestDatabase.apiKey(tenant: nil)
    let worker = try Whago.worker(redis: url("whago-worker"), queues: "diag", concurrency: 8)
    defer { worker.signal(SIGKILL) }
    try await ServeProcess.with(environment: ["WHAGO_REDIS_URL": url("whago-serve")]) { serve in
      let batch = try await HTTP.send(
        "POST", serve.base + "/v1/jobs/batch", key: service, tenant: tenant,
        json: ["jobs": (0..<20).map { ["type": "diag.echo", "payload": ["n": $0]] }])
      #expect(batch.status == 202, "\(batch.text)")
      let failing = try await HTTP.send(
        "POST", serve.base + "/v1/jobs", key: service, tenant: tenant,
        json: ["type": "diag.fail", "payload": ["times": 9], "max_attempts": 2])
      #expect(failing.status == 202, "\(failing.text)")
      let admin = Broker(redis: RedisClient(url: try RedisURL(cluster.url)))
      try await eventually("the worker to run the jobs as whago-worker", within: .seconds(60)) {
        let stats = try await admin.stats(queues: ["diag"])[0]
        return stats.processed >= 20 && stats.dead >= 1
      }
      let lookup = try await HTTP.send(
        "GET", serve.base + "/v1/jobs/\(try failing.json()["id"] as? String ?? "")",
        key: service, tenant: tenant)
      #expect(lookup.status == 200, "\(lookup.text)")
    }
    #expect(worker.isRunning, "\(worker.output.suffix(2000))")
    for port in cluster.ports {
      let node = cluster.client(port: port)
      defer { node.close() }
      let denials = try await node.send("ACL", "LOG").array ?? []
      #expect(denials.isEmpty, "node \(port) refused whago: \(denials)")
    }
  }
}
