import Foundation
import Postgres
import Store
import Synchronization
import TestSupport
import Testing

/// What connecting chips keeps in PostgreSQL: sealed proxy passwords, one container per tenant on
/// a port no other tenant has, at most so many sessions in it, and a sticky proxy id per chip.
@Suite struct ChipConnectionStoreTests {
  static func box() throws -> SecretBox { try SecretBox(encoded: TestDatabase.secretKey) }

  static func otherBox() throws -> SecretBox {
    try SecretBox(encoded: Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString())
  }

  /// A port range no other test allocates from (the containers table is shared by every suite):
  /// counted, not drawn, since two draws of the same range made a test find every port taken; above
  /// the end-to-end suites' ranges (`ChipConnectionTests.portBase`, up to 32,000).
  static func ports(_ width: Int) -> ClosedRange<Int> {
    let base = 40_000 + rangesTaken.add(1, ordering: .relaxed).newValue * 10
    return base...(base + min(width, 10) - 1)
  }

  static let rangesTaken = Atomic<Int>(0)

  @Test func aSealedPasswordOpensOnlyWithItsKeyAndIsNotStoredInTheClear() async throws {
    let box = try Self.box()
    let sealed = try box.seal("hunter2-secret")
    #expect(try box.open(sealed) == "hunter2-secret")
    #expect(!String(decoding: sealed, as: UTF8.self).contains("hunter2"))
    #expect(try box.seal("hunter2-secret") != sealed, "each seal draws its own nonce")
    #expect(throws: SecretBoxError.wrongKey) { try Self.otherBox().open(sealed) }
    #expect(throws: SecretBoxError.badKey) { try SecretBox(encoded: "short") }
    let hex = try SecretBox(encoded: String(repeating: "ab", count: 32))
    #expect(try hex.open(try hex.seal("x")) == "x")

    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let login = "u\(UInt32.random(in: 0...UInt32.max))"
    let proxy = try await store.addProxy(
      NewProxy(
        provider: "dataimpulse", host: "GW.dataimpulse.com", port: 824, username: login, password: "pw-\(login)",
        country: "br"), box: box)
    #expect(proxy.host == "gw.dataimpulse.com")
    #expect(proxy.usernameTemplate == "{username}__cr.{country};sessid.{session}")
    let stored: Data = try await pool.query("SELECT password_sealed FROM proxies WHERE id = $1", [proxy.id])[0]
      .decode("password_sealed")
    #expect(!String(decoding: stored, as: UTF8.self).contains("pw-\(login)"))
    #expect(try box.open(Array(stored)) == "pw-\(login)")
    await #expect(throws: ProxyError.exists) {
      try await store.addProxy(
        NewProxy(provider: "dataimpulse", host: "gw.dataimpulse.com", port: 824, username: login, password: "x"),
        box: box)
    }
    do {
      _ = try await store.addProxy(
        NewProxy(provider: "Acme!", host: "http://x:1", port: 0, username: "", password: "", country: "BRA"), box: box)
      Issue.record("an invalid proxy was added")
    } catch let error as ProxyError {
      guard case .invalid(let problems) = error else { throw error }
      #expect(problems.count == 7, "\(problems)")
    }
    // The pool is shared with suites running at the same time, whose chips may have drawn this account.
    if (try? await store.removeProxy(id: proxy.id)) != nil {
      await #expect(throws: ProxyError.notFound(proxy.id)) { try await store.removeProxy(id: proxy.id) }
    }
  }

  @Test func chipsCreatedAtOnceShareOneContainerWithinItsSessionLimitAndEachDrawsItsOwnProxyID() async throws {
    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool(size: 4)
    defer { pool.close() }
    let store = Store(pool: pool)
    let box = try Self.box()
    let login = "u\(UInt32.random(in: 0...UInt32.max))"
    let proxy = try await store.addProxy(
      NewProxy(
        provider: "custom", host: "proxy.example.net", port: 1080, username: login, password: "pw",
        usernameTemplate: "{username}-session-{session}"), box: box)
    let settings = {
      var settings = ContainerSettings()
      settings.ports = Self.ports(2)
      settings.maxSessions = 3
      return settings
    }()
    let first = try #require(try await store.tenantAccess(named: try await TestDatabase.tenant(plan: "enterprise")))
    let chips = try await withThrowingTaskGroup(of: Chip.self) { group in
      for index in 0..<3 {
        group.addTask { try await store.createManagedChip(tenant: first, name: "c\(index)", settings: settings) }
      }
      return try await group.reduce(into: [Chip]()) { $0.append($1) }
    }
    let container = try #require(try await store.container(tenantID: first.tenant.id))
    #expect(container.sessions == 3)
    #expect(settings.ports.contains(container.hostPort))
    #expect(container.name.hasPrefix("waha_plus_user_") && container.name.count == "waha_plus_user_".count + 36)
    #expect(container.apiKey.count == 64)
    #expect(Set(chips.map(\.session)).count == 3)
    for chip in chips {
      #expect(chip.managed && chip.provisioningStep == "container")
      #expect(chip.session.hasPrefix("chip_") && chip.session.count <= 54)
      #expect(chip.wahaUrl == "http://127.0.0.1:\(container.hostPort)")
    }
    await #expect(throws: ChipError.containerFull(limit: 3)) {
      try await store.createManagedChip(tenant: first, name: "c4", settings: settings)
    }

    // Another tenant gets the other port; a third finds none.
    let second = try #require(try await store.tenantAccess(named: try await TestDatabase.tenant(plan: "enterprise")))
    _ = try await store.createManagedChip(tenant: second, name: "c", settings: settings)
    let other = try #require(try await store.container(tenantID: second.tenant.id))
    #expect(other.hostPort != container.hostPort)
    let third = try #require(try await store.tenantAccess(named: try await TestDatabase.tenant(plan: "enterprise")))
    await #expect(throws: ChipError.noContainerPort(settings.ports)) {
      try await store.createManagedChip(tenant: third, name: "c", settings: settings)
    }
    #expect(try await store.container(tenantID: third.tenant.id) == nil, "nothing is left of the refused chip")

    // A sticky id per chip, kept on a second assignment, changed by a rotation.
    var ids: Set<String> = []
    for chip in chips {
      let proxyID = try await store.assignProxy(chipID: chip.id)
      #expect(try await store.assignProxy(chipID: chip.id) == proxyID)
      let session = try #require(try await store.proxySession(chipID: chip.id, box: box))
      #expect(session.sessionID.count == 12 && session.sessionID.allSatisfy { $0.isLowercase || $0.isNumber })
      if proxyID == proxy.id {
        #expect(session.username == "\(login)-session-\(session.sessionID)")
        #expect(session.server == "proxy.example.net:1080" && session.password == "pw")
      }
      ids.insert(session.sessionID)
    }
    #expect(ids.count == 3)
    let before = try #require(try await store.proxySession(chipID: chips[0].id, box: box))
    try await store.rotateProxy(chipID: chips[0].id)
    #expect(try await store.proxySession(chipID: chips[0].id, box: box)?.sessionID != before.sessionID)

    // Deleting a chip hands its session back for release; the last one starts the grace period.
    let released = try await store.deleteChip(
      tenantID: second.tenant.id, id: try await store.chips(tenantID: second.tenant.id)[0].id)
    #expect(released?.session.hasPrefix("chip_") == true)
    #expect(try await store.container(tenantID: second.tenant.id)?.emptySince != nil)
    for chip in chips { try await store.deleteChip(tenantID: first.tenant.id, id: chip.id) }
    await #expect(throws: ProxyError.self) { try await store.removeProxy(id: 0) }
    try? await store.removeProxy(id: proxy.id)
  }

  /// A FAILED chip whago runs gets three restarts, then is marked once, with one event; working
  /// again starts the count over. A chip on the tenant's own WAHA is left alone.
  @Test func aChipThatStaysFailedGetsThreeRestartsThenNeedsAttentionOnce() async throws {
    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool(size: 2)
    defer { pool.close() }
    let store = Store(pool: pool)
    let settings = {
      var settings = ContainerSettings()
      settings.ports = Self.ports(1)
      return settings
    }()
    let access = try #require(try await store.tenantAccess(named: try await TestDatabase.tenant(plan: "enterprise")))
    let chip = try await store.createManagedChip(tenant: access, name: "c", settings: settings)
    let own = try await store.createChip(
      tenant: access, name: "own", wahaURL: "http://waha.example.invalid", session: "own-\(chip.id)",
      wahaAPIKey: nil)
    try await store.recordProvisioning(chipID: chip.id, step: "done")
    #expect(try await store.beginChipRestart(chipID: chip.id, maxAttempts: 3) == .recovered, "not FAILED yet")
    try await store.recordChipStatus(id: chip.id, status: .failed)
    try await store.recordChipStatus(id: own.id, status: .failed)
    #expect(try await store.beginChipRestart(chipID: own.id, maxAttempts: 3) == .notManaged)
    #expect(try await store.failedManagedChips().contains(chip.id))
    for attempt in 1...3 {
      guard
        case .restart(let counted, let session, _) = try await store.beginChipRestart(chipID: chip.id, maxAttempts: 3)
      else {
        Issue.record("restart \(attempt) was not given")
        return
      }
      #expect(counted == attempt && session == chip.session)
    }
    #expect(try await store.beginChipRestart(chipID: chip.id, maxAttempts: 3) == .needsAttention)
    #expect(try await store.beginChipRestart(chipID: chip.id, maxAttempts: 3) == .needsAttention)
    #expect(!(try await store.failedManagedChips().contains(chip.id)), "given up on: no more restarts")
    func events() async throws -> Int {
      try await pool.query(
        "SELECT count(*)::int AS n FROM events WHERE kind = 'chip.needs_attention' AND subject_id = $1", [chip.id]
      )[0].decode("n")
    }
    #expect(try await events() == 1)
    // Working again: the count and the mark are cleared, so a later failure gets its restarts.
    try await store.recordChipStatus(id: chip.id, status: .working)
    try await store.recordChipStatus(id: chip.id, status: .failed)
    guard case .restart(let again, _, _) = try await store.beginChipRestart(chipID: chip.id, maxAttempts: 3) else {
      Issue.record("no restart after the chip worked again")
      return
    }
    #expect(again == 1)
    for id in [chip.id, own.id] { try await store.deleteChip(tenantID: access.tenant.id, id: id) }
  }
}
