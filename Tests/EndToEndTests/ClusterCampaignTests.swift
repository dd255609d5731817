import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

extension EndToEndTests {
  /// A campaign on Redis Cluster: serve and two workers are given `redis+cluster://` (3 masters, 3
  /// replicas), the campaign's queue waits for one replica, and the master holding that queue is
  /// SIGKILLed mid-campaign and its replica promoted. The campaign completes, and the simulator's
  /// log, the witness of what really went out, has every recipient exactly once: a send is
  /// claimed in PostgreSQL before the call, so a job that a failover makes run again finds its
  /// messages taken.
  @Test func aCampaignOnAClusterSendsEachRecipientOnceThroughAFailover() async throws {
    let cluster = try await ClusterGroup.start()
    defer { cluster.stop() }
    try await CampaignRun.with(
      plan: ["min_send_gap_ms=0", "sends_per_minute=unlimited"], chips: 2,
      catalogEdit: { catalog in
        var catalog = catalog
        var queues = catalog["queues"] as? [String: Any] ?? [:]
        for (name, value) in queues {
          var queue = value as? [String: Any] ?? [:]
          queue["durability"] = ["replicas": 1, "timeout_ms": 2000]
          queues[name] = queue
        }
        catalog["queues"] = queues
        return catalog
      }, redis: cluster.url
    ) { run in
      let phones = CampaignRun.phones(600)
      // About 40 sends a second per chip: the campaign is still sending when its master dies.
      let id = try await run.createCampaign(phones: phones, pace: (20, 30))
      try run.startWorker()
      try run.startWorker()
      #expect(try await run.command(id, "start").status == 200)
      try await eventually("the first sends", within: .seconds(60), every: .milliseconds(50)) {
        try await run.sent().count >= 100
      }
      let queueKey = QueueKeys(queue: run.queue).ready
      let victim = try await cluster.masterPort(of: queueKey)
      cluster.kill(port: victim)
      try await eventually("a replica to take over", within: .seconds(60), every: .milliseconds(100)) {
        (try? await cluster.masterPort(of: queueKey)).map { $0 != victim } ?? false
      }
      let sentAtFailover = try await run.sent().count
      try await cluster.waitUntilHealthy()
      try await cluster.restart(port: victim)
      try await cluster.waitForReplicas()
      try await run.waitFor(id, status: "completed", within: .seconds(180))

      let counts = try await run.sendsPerRecipient()
      #expect(sentAtFailover < phones.count, "the failover came after the campaign had finished")
      #expect(counts.count == phones.count, "\(phones.count - counts.count) recipients never got the message")
      let twice = counts.filter { $0.value > 1 }
      #expect(twice.isEmpty, "sent more than once: \(twice.prefix(10))")
      let (_, tally) = try await run.campaign(id)
      #expect(tally["sent"] == phones.count && tally["failed"] == 0, "\(tally)")
    }
  }
}
