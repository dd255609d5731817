import CampaignStore
import Foundation
import HTTPTypes
import Hummingbird
import JobCatalog
import JobContracts
import JobQueue
import OutboundHTTP
import Postgres
import Store
import Synchronization
import TestSupport
import Testing
import WebhookJobs
import Wire
import Worker

/// Outbound webhooks end to end in this process: events written by the store, dispatched from the
/// feed, delivered by the real worker to a receiver that fails the way receivers do. Serialized:
/// its tests dispatch from the one feed cursor, so one's dispatcher would take the other's events.
@Suite(.serialized) struct OutboundWebhookTests {
  /// Answers each event's attempts 500, 500, then too late (past the sender's timeout), then 200,
  /// and keeps every request it got.
  final class FlakyReceiver: Sendable {
    struct Request: Sendable {
      var headers: [String: String]
      var body: Data
    }

    private final class Inbox: Sendable {
      let requests = Mutex<[Request]>([])
    }

    private let inbox = Inbox()
    private let server: InProcessServer
    var url: String { server.base + "/hooks" }
    var all: [Request] { inbox.requests.withLock { $0 } }

    init() async throws {
      let router = Router()
      router.post("hooks") { [inbox] request, _ -> Response in
        let body = Data(try await request.body.collect(upTo: 1 << 20).readableBytesView)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let event = headers["whago-event-id"] ?? ""
        let attempt = inbox.requests.withLock { list in
          list.append(Request(headers: headers, body: body))
          return list.filter { $0.headers["whago-event-id"] == event }.count
        }
        switch attempt {
        case 1, 2: return Response(status: .internalServerError)
        case 3:
          try await Task.sleep(for: .seconds(3))
          return Response(status: .ok)
        default: return Response(status: .ok)
        }
      }
      server = try await InProcessServer(router: router, label: "flaky-receiver")
    }

    func stop() async { await server.stop() }
  }

  @Test func eachEventArrivesOnceAsASuccessSignedAndWithTheSameIDOnEveryAttempt() async throws {
    try await TestDatabase.migrate()
    let tenant = try await TestDatabase.tenant(plan: "enterprise")
    let pool = try TestDatabase.pool(size: 4)
    defer { pool.close() }
    let store = Store(pool: pool)
    let receiver = try await FlakyReceiver()
    let tenantID = try #require(try await store.tenantAccess(named: tenant)).tenant.id
    let (endpoint, secret) = try await store.createWebhookEndpoint(
      tenantID: tenantID, url: receiver.url, events: [.creditsAdded])
    // Two events it wants, and one of a type it did not ask for.
    _ = try await store.addCreditPack(tenant: tenant, credits: 10)
    _ = try await store.addCreditPack(tenant: tenant, credits: 20)
    let chip = try await store.createChip(
      tenant: try #require(try await store.tenantAccess(named: tenant)), name: "c", wahaURL: "http://127.0.0.1:1",
      session: "s-\(tenant)", wahaAPIKey: nil)
    try await store.recordChipStatus(id: chip.id, status: .working)

    let queue = TestRedis.queue()
    let catalog = try InProcessWorker.catalog(
      queue: queue,
      jobs: [
        WebhookDispatchJob.type: #""max_attempts": 1"#,
        WebhookDeliverJob.type: #""max_attempts": 10, "backoff": {"base_ms": 50, "cap_ms": 200}"#,
      ])
    var registry = HandlerRegistry()
    WebhookJobs.register(in: &registry, store: store, http: HTTPClient(), catalog: catalog, timeout: .seconds(1))
    try await InProcessWorker.with(catalog: catalog, registry: registry, configure: { $0.concurrency = 8 }) { broker in
      // The dispatcher runs every second in production; here, until both events are delivered.
      try await eventually("both events delivered", within: .seconds(60), every: .milliseconds(300)) {
        _ = try await broker.enqueue(WebhookDispatchJob.spec(NoParameters(), catalog: catalog))
        return receiver.all.filter { Int($0.headers["whago-delivery-attempt"] ?? "") == 4 }.count == 2
      }
    }
    await receiver.stop()

    let byEvent = Dictionary(grouping: receiver.all) { $0.headers["whago-event-id"] ?? "" }
    #expect(byEvent.count == 2, "events delivered: \(byEvent.keys.sorted())")
    for (id, attempts) in byEvent {
      // 500, 500, too late, 200: four attempts of the same event, numbered, and no fifth.
      #expect(attempts.map { $0.headers["whago-delivery-attempt"] } == ["1", "2", "3", "4"], "event \(id)")
      #expect(Set(attempts.map(\.body)).count == 1, "event \(id): the body changed between attempts")
      for attempt in attempts {
        let signature = try #require(attempt.headers["whago-signature"])
        let parts = Dictionary(
          uniqueKeysWithValues: signature.split(separator: ",").map { pair in
            let kv = pair.split(separator: "=", maxSplits: 1)
            return (String(kv[0]), String(kv.count > 1 ? kv[1] : ""))
          })
        let timestamp = try #require(Int64(parts["t"] ?? ""))
        #expect(parts["v1"] == WebhookSignature.hex(secret: secret, timestamp: timestamp, body: Array(attempt.body)))
        #expect(
          parts["v1"] != WebhookSignature.hex(secret: "whsec_wrong", timestamp: timestamp, body: Array(attempt.body)))
      }
      let event = try WireJSON.decoder.decode(Event.self, from: attempts[0].body)
      #expect(String(event.id) == id && event.type == .creditsAdded && event.tenant == tenant)
    }
    let credits = byEvent.values.compactMap {
      try? WireJSON.decoder.decode(Event.self, from: $0[0].body).data["credits"]?.number
    }
    #expect(credits.sorted() == [10, 20])
    // The endpoint succeeded last: not failing.
    let listed = try await store.webhookEndpoints(tenantID: tenantID)
    #expect(listed.map(\.id) == [endpoint.id] && listed[0].failingSince == nil)
  }
}

/// The README's test vector, so a receiver written from it verifies what we send.
@Suite struct WebhookSignatureVectorTests {
  @Test func theReadmeVectorIsWhatWeSign() {
    let body =
      #"{"data":{"credits":500},"id":42,"occurred_at":"2026-12-05T08:07:50.861Z","subject":null,"tenant":"acme","type":"credits.added"}"#
    let header = WebhookSignature.header(
      secret: "whsec_5f3c2a9e0b7d41c68e2f9a1b3c4d5e6f7a8b9c0d1e2f3a4b", timestamp: 1_796_458_070, body: Array(body.utf8)
    )
    #expect(header == "t=1796458070,v1=1e3b011e229225db92e4496255b1b0a067eed197e90d4d5668c170692501ca01")
  }
}
