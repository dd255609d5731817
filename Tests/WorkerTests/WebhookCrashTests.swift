import CampaignStore
import Foundation
import Hummingbird
import JobQueue
import Postgres
import RedisClient
import Store
import Synchronization
import TestSupport
import Testing

/// Outbound webhooks when the worker is killed in the middle: a real `whago work` process
/// dispatches the feed and delivers to a receiver that holds every request open, and is SIGKILLed
/// with deliveries in flight. A second worker delivers every event: none is lost, each keeps its
/// id and body, and each is answered with a success. Beside the in-process test, never at the
/// same time: both dispatch from the one feed cursor.
extension OutboundWebhookTests {
  @Suite struct WebhookCrashTests {
    /// Holds each request open while `holding`, then answers 200; keeps what it got and whether it
    /// came before the kill.
    final class HoldingReceiver: Sendable {
      struct Request: Sendable {
        var event: String
        var body: Data
        var afterKill: Bool
      }

      private final class State: Sendable {
        let requests = Mutex<[Request]>([])
        let holding = Mutex(true)
      }

      private let state = State()
      private let server: InProcessServer
      var url: String { server.base + "/hooks" }
      var all: [Request] { state.requests.withLock { $0 } }

      init() async throws {
        let router = Router()
        router.post("hooks") { [state] request, _ -> Response in
          let body = Data(try await request.body.collect(upTo: 1 << 20).readableBytesView)
          let event = request.headers[.init("Whago-Event-Id")!] ?? ""
          let holding = state.holding.withLock { $0 }
          state.requests.withLock { $0.append(Request(event: event, body: body, afterKill: !holding)) }
          // Held until released (the worker that sent it is dead by then), at most a minute.
          for _ in 0..<1200 where state.holding.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(50)) }
          return Response(status: .ok)
        }
        server = try await InProcessServer(router: router, label: "holding-receiver")
      }

      func release() { state.holding.withLock { $0 = false } }
      func stop() async { await server.stop() }
    }

    @Test func aWorkerKilledMidDeliveryLosesNoEvent() async throws {
      try await TestDatabase.migrate()
      let tenant = try await TestDatabase.tenant(plan: "enterprise", "hookcrash")
      let pool = try TestDatabase.pool(size: 2)
      defer { pool.close() }
      let store = Store(pool: pool)
      let receiver = try await HoldingReceiver()
      let tenantID = try #require(try await store.tenantAccess(named: tenant)).tenant.id
      _ = try await store.createWebhookEndpoint(tenantID: tenantID, url: receiver.url, events: [.creditsAdded])
      let count = 12
      for credits in 1...count { _ = try await store.addCreditPack(tenant: tenant, credits: credits) }

      let queue = TestRedis.queue()
      let catalog = try TestCatalog(
        """
        {"queues": {"\(queue)": {"weight": 1}},
         "jobs": {
           "webhooks.dispatch": {"queue": "\(queue)", "max_attempts": 1, "timeout_ms": 10000},
           "webhook.deliver": {"queue": "\(queue)", "max_attempts": 20, "backoff": {"base_ms": 200, "cap_ms": 1000},
                               "timeout_ms": 60000}},
         "schedules": {"dispatch-\(queue)": {"cron": "* * * * * *", "timezone": "UTC", "job": "webhooks.dispatch",
                                             "missed": "skip", "missed_after_ms": 5000}}}
        """)
      let redis = try TestRedis.url.description
      let options = ["--database-url", try TestDatabase.urlText, "--lease", "2s"]
      let first = try catalog.worker(redis: redis, queues: queue, concurrency: 4, extra: options)
      defer { first.signal(SIGKILL) }
      // Several deliveries are in flight, held open by the receiver: kill the worker now.
      try await eventually("deliveries in flight", within: .seconds(60)) {
        Set(receiver.all.map(\.event)).count >= 3
      }
      first.signal(SIGKILL)
      _ = try await first.waitForExit()
      let inFlight = Set(receiver.all.map(\.event))
      receiver.release()

      let second = try catalog.worker(redis: redis, queues: queue, concurrency: 4, extra: options)
      defer { second.signal(SIGKILL) }
      let ours = try await pool.query(
        "SELECT id FROM events WHERE tenant_id = $1 AND kind = 'credits.added' ORDER BY id", [tenantID]
      ).rows.map { String(try $0.decode("id", as: Int64.self)) }
      #expect(ours.count == count)
      try await eventually("every event delivered after the kill", within: .seconds(90)) {
        Set(receiver.all.filter(\.afterKill).map(\.event)).isSuperset(of: ours)
      }
      await receiver.stop()

      // The ones cut off by the kill came again, with the same body; nothing else came.
      let byEvent = Dictionary(grouping: receiver.all, by: \.event)
      #expect(Set(byEvent.keys) == Set(ours), "deliveries for events not ours: \(Set(byEvent.keys).subtracting(ours))")
      for event in inFlight {
        let attempts = byEvent[event] ?? []
        #expect(attempts.contains { !$0.afterKill } && attempts.contains(where: \.afterKill), "event \(event)")
        #expect(Set(attempts.map(\.body)).count == 1, "event \(event): the body changed between attempts")
      }
    }
  }
}
