import CampaignStore
import Enqueuer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Store
import Synchronization
import TestSupport
import Testing
import Wire

/// `GET /v1/events`, in process: events written by the store's own operations, read back by a
/// tenant key, a service key across tenants and a service key for one tenant, a page at a time.
@Suite struct EventFeedTests {
  struct Page: Decodable {
    var events: [Event]
    var next: String
  }

  static func get(_ client: some TestClientProtocol, _ uri: String, key: String, tenant: String? = nil)
    async throws -> (HTTPResponse.Status, Page?, String)
  {
    var headers: HTTPFields = [.authorization: "Bearer \(key)"]
    if let tenant { headers[HTTPField.Name("Whago-Tenant")!] = tenant }
    return try await client.execute(uri: uri, method: .get, headers: headers) { response in
      let text = String(buffer: response.body)
      let page = response.status == .ok ? try WireJSON.decoder.decode(Page.self, from: Data(text.utf8)) : nil
      return (response.status, page, text)
    }
  }

  @Test func eachReaderSeesItsEventsInOrderAPageAtATime() async throws {
    try await TestDatabase.migrate()
    let (a, b) = (
      try await TestDatabase.tenant(plan: "enterprise", "feed-a"),
      try await TestDatabase.tenant(plan: "enterprise", "feed-b")
    )
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let aKey = try await store.createAPIKey(tenant: a).key
    let serviceKey = try await store.createAPIKey(tenant: nil).key

    // A pack, then a chip that comes up and is logged out: three events for a, one for b.
    _ = try await store.addCreditPack(tenant: a, credits: 500, reference: "order-\(a)")
    let chip = try await store.createChip(
      tenant: try #require(try await store.tenantAccess(named: a)), name: "chip", wahaURL: "http://127.0.0.1:3000",
      session: "s-\(a)", wahaAPIKey: nil)
    try await store.recordChipStatus(id: chip.id, status: .working)
    try await store.recordChipStatus(id: chip.id, status: .working)  // no change, no event
    try await store.recordChipStatus(id: chip.id, status: .scanQRCode)
    _ = try await store.addCreditPack(tenant: b, credits: 100)

    try await withInProcessEnqueuer { client in
      // Only these types: another test's worker may check this chip's WAHA meanwhile, find it
      // unreachable and add `chip.unreachable`.
      let three = "type=credits.added,chip.working,chip.logged_out"
      // Another test's transaction still open holds the feed back for a moment: wait for it.
      var (status, page, text) = try await Self.get(client, "/v1/events?\(three)", key: aKey)
      try await eventually("the three events in the feed") {
        (status, page, text) = try await Self.get(client, "/v1/events?\(three)", key: aKey)
        return page?.events.count == 3
      }
      #expect(status == .ok, "\(text)")
      let events = try #require(page).events
      #expect(events.map(\.type) == [.creditsAdded, .chipWorking, .chipLoggedOut], "\(text)")
      #expect(events.allSatisfy { $0.tenant == a })
      #expect(events.map(\.id) == events.map(\.id).sorted())
      #expect(events[0].subject == nil && events[0].data == ["credits": 500, "reference": .string("order-\(a)")])
      #expect(events[1].subject == .chip(chip.id) && events[2].data["was"] == "WORKING")
      #expect(text.contains(#""occurred_at":"#) && text.contains(#""subject":null"#))

      // One at a time from the cursor: the same three, then an empty page that keeps the cursor.
      var cursor = "0"
      var walked: [Int64] = []
      while true {
        let (_, next, _) = try await Self.get(client, "/v1/events?\(three)&limit=1&after=\(cursor)", key: aKey)
        let page = try #require(next)
        if page.events.isEmpty {
          #expect(page.next == cursor)
          break
        }
        walked += page.events.map(\.id)
        cursor = page.next
      }
      #expect(walked == events.map(\.id))

      let (_, chips, _) = try await Self.get(client, "/v1/events?type=chip.working,chip.logged_out", key: aKey)
      #expect(try #require(chips).events.map(\.type) == [.chipWorking, .chipLoggedOut])
      let (_, repeated, _) = try await Self.get(client, "/v1/events?type=credits.added&type=chip.working", key: aKey)
      #expect(try #require(repeated).events.map(\.type) == [.creditsAdded, .chipWorking])

      // The service reads across tenants from a cursor, or one tenant with Whago-Tenant.
      let before = String(events[0].id - 1)
      var ours: [Event] = []
      try await eventually("b's event in the service's feed") {
        let (_, all, _) = try await Self.get(
          client, "/v1/events?\(three)&after=\(before)&limit=1000", key: serviceKey)
        ours = all?.events.filter { $0.tenant == a || $0.tenant == b } ?? []
        return ours.count == 4
      }
      #expect(ours.map(\.tenant) == [a, a, a, b])
      let (_, onlyB, _) = try await Self.get(client, "/v1/events", key: serviceKey, tenant: b)
      #expect(try #require(onlyB).events.map(\.type) == [.creditsAdded])
      #expect(try #require(onlyB).events.allSatisfy { $0.tenant == b })

      // A tenant key never reads another tenant's; bad queries say what is wrong.
      #expect(try await Self.get(client, "/v1/events", key: aKey, tenant: b).0 == .forbidden)
      for (query, says) in [
        ("limit=0", "limit must be"), ("after=-1", "after must be"), ("type=chip.exploded", "unknown type"),
      ] {
        let (status, _, text) = try await Self.get(client, "/v1/events?\(query)", key: aKey)
        #expect(status == .badRequest, "\(query)")
        #expect(text.contains(says), "\(query): \(text)")
      }
      // Routes that act for one tenant still want one from a service key.
      try await client.execute(uri: "/v1/chips", method: .get, headers: [.authorization: "Bearer \(serviceKey)"]) {
        #expect($0.status == .badRequest && String(buffer: $0.body).contains("missing-tenant"))
      }
    }
  }

  /// An event whose transaction is still open holds back the later ones, so a reader that moves
  /// its cursor past them can never miss it when it commits.
  @Test func aLaterEventWaitsForAnEarlierOneStillInFlight() async throws {
    try await TestDatabase.migrate()
    let tenant = try await TestDatabase.tenant(plan: "enterprise")
    let pool = try TestDatabase.pool(size: 2)
    defer { pool.close() }
    let store = Store(pool: pool)
    let key = try await store.createAPIKey(tenant: tenant).key
    let tenantID = try #require(try await store.tenantAccess(named: tenant)).tenant.id

    let inserted = Mutex(false)
    let release = DispatchSemaphore(value: 0)
    // Released however the test ends, so the holding thread never waits forever.
    defer { release.signal() }
    // A transaction that writes an event and stays open until released (on the pool's own
    // thread, never the test's).
    let holder = Task {
      try await pool.withConnection { connection in
        try connection.query("BEGIN")
        try connection.query(
          "INSERT INTO events (tenant_id, kind) VALUES ($1, 'credits.low')", [tenantID])
        inserted.withLock { $0 = true }
        release.wait()
        try connection.query("COMMIT")
      }
    }
    try await eventually("the first event to be written, uncommitted") { inserted.withLock { $0 } }
    _ = try await store.addCreditPack(tenant: tenant, credits: 10)
    try await withInProcessEnqueuer { client in
      let (_, held, text) = try await Self.get(client, "/v1/events", key: key)
      #expect(try #require(held).events.isEmpty, "a later event came before the one still in flight: \(text)")
      release.signal()
      try await holder.value
      try await eventually("both events, in the order they were written") {
        let (_, page, _) = try await Self.get(client, "/v1/events", key: key)
        return page?.events.map(\.type) == [.creditsLow, .creditsAdded]
      }
    }
  }
}
