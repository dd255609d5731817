import Enqueuer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JobQueue
import Postgres
import Store
import TestSupport
import Testing

extension EnqueuerSuite {
  /// Dashboard logins in process: the cookie is a session id, never the key; sessions end when
  /// idle, at their lifetime, at logout and with their key; forms need their session's CSRF token
  /// and this site's origin; failed logins are throttled per key and per address.
  @Suite struct DashboardSessionTests {
    struct Browser {
      let client: any TestClientProtocol

      /// Posts a form; answers the status, the Set-Cookie header and the Location.
      func post(
        _ uri: String, _ fields: [(String, String)], cookie: String? = nil, origin: String? = nil
      ) async throws -> (status: HTTPResponse.Status, setCookie: String?, location: String?) {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let cookie { headers[.cookie] = "\(AdminGateCookie.name)=\(cookie)" }
        if let origin { headers[HTTPField.Name("Origin")!] = origin }
        let body = fields.map {
          "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
        }.joined(separator: "&")
        return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body)) {
          ($0.status, $0.headers[.setCookie], $0.headers[.location])
        }
      }

      func get(_ uri: String, cookie: String) async throws -> (status: HTTPResponse.Status, body: String) {
        try await client.execute(uri: uri, method: .get, headers: [.cookie: "\(AdminGateCookie.name)=\(cookie)"]) {
          ($0.status, String(buffer: $0.body))
        }
      }

      /// Logs in with `key` and returns the session id from the cookie.
      func login(_ key: String) async throws -> String {
        let answer = try await post("/dashboard/login", [("key", key)])
        #expect(answer.status == .seeOther && answer.location == "/dashboard")
        let cookie = try #require(answer.setCookie, "no session cookie at login (\(answer.status))")
        let value = try #require(cookie.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last)
        return String(value)
      }

      /// The CSRF token a page of the session carries in its forms.
      func csrf(_ session: String) async throws -> String {
        let page = try await get("/dashboard", cookie: session)
        #expect(page.status == .ok)
        let marker = "name=\"csrf\" value=\""
        let start = try #require(page.body.range(of: marker), "no CSRF field on the page")
        return String(page.body[start.upperBound...].prefix { $0 != "\"" })
      }
    }

    enum AdminGateCookie { static let name = "whago_session" }

    @Test func theCookieIsASessionThatEndsIdleAtItsLifetimeAtLogoutAndWithItsKey() async throws {
      try await TestDatabase.migrate()
      let pool = try TestDatabase.pool(size: 1)
      defer { pool.close() }
      let store = Store(pool: pool)
      let issued = try await store.createAPIKey(tenant: nil, admin: true)
      let key = issued.key
      try await withInProcessEnqueuer { client in
        let browser = Browser(client: client)
        let login = try await browser.post("/dashboard/login", [("key", key)])
        let cookie = try #require(login.setCookie)
        #expect(!cookie.contains(key) && !cookie.contains(issued.record.prefix))
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/dashboard", "Secure"] {
          #expect(cookie.contains(attribute), "\(attribute) missing from \(cookie)")
        }
        // The key itself, presented as a cookie, opens nothing.
        #expect(try await browser.get("/dashboard", cookie: key).status == .seeOther)

        func opens(_ session: String) async throws -> Bool {
          try await browser.get("/dashboard", cookie: session).status == .ok
        }
        func age(_ column: String, by interval: String) async throws {
          try await pool.query(
            "UPDATE dashboard_sessions SET \(column) = \(column) - $2::interval WHERE api_key_id = $1",
            [issued.record.id, interval])
        }

        // Idle: 29 minutes of silence keep it (and the request restarts the count), 31 end it.
        let idle = try await browser.login(key)
        try await age("last_seen_at", by: "29 minutes")
        #expect(try await opens(idle))
        try await age("last_seen_at", by: "31 minutes")
        #expect(!(try await opens(idle)))

        // Absolute: past 12 hours it ends, however recently it was used.
        let old = try await browser.login(key)
        try await age("created_at", by: "12 hours 1 minute")
        #expect(!(try await opens(old)))

        // Logout needs the form's token, then ends the session on the server.
        let session = try await browser.login(key)
        #expect(try await browser.post("/dashboard/logout", [], cookie: session).status == .forbidden)
        #expect(try await opens(session))
        let out = try await browser.post(
          "/dashboard/logout", [("csrf", try await browser.csrf(session))], cookie: session)
        #expect(out.status == .seeOther && out.location == "/dashboard/login?out=1")
        #expect(out.setCookie?.contains("Max-Age=0") == true)
        #expect(!(try await opens(session)))

        // Revoking the key ends its sessions at once.
        let last = try await browser.login(key)
        #expect(try await opens(last))
        try await store.revokeAPIKey(prefix: issued.record.prefix)
        #expect(!(try await opens(last)))
        let live = try await pool.query(
          "SELECT count(*)::bigint AS n FROM dashboard_sessions WHERE api_key_id = $1 AND revoked_at IS NULL",
          [issued.record.id])
        #expect(try live.rows[0].decode("n", as: Int64.self) == 4, "only logout marks a session revoked")
      }
    }

    @Test func formsNeedTheirSessionsTokenAndThisSitesOrigin() async throws {
      try await TestDatabase.migrate()
      let pool = try TestDatabase.pool(size: 1)
      defer { pool.close() }
      let key = try await Store(pool: pool).createAPIKey(tenant: nil, admin: true).key
      let broker = try TestRedis.broker()
      let queue = TestRedis.queue("csrf")
      let id = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue, maxAttempts: 1)).id
      let leased = try await broker.fetch(queue: queue, limit: 1, lease: .seconds(60), token: "csrf:1").jobs
      try #require(leased.map(\.id) == [id])
      #expect(try await broker.fail(leased[0], error: "boom", retryAfter: nil) == .dead)

      try await withInProcessEnqueuer(broker: broker) { client in
        let browser = Browser(client: client)
        let session = try await browser.login(key)
        let token = try await browser.csrf(session)
        let form = [("queue", queue), ("id", id), ("back", "/dashboard/dead")]

        // Without the token, or with another token: refused, and the job is still dead.
        for extra in [[], [("csrf", String(token.reversed()))]] {
          let refused = try await browser.post("/dashboard/dead/delete", form + extra, cookie: session)
          #expect(refused.status == .forbidden)
        }
        // With the token but posted from another site: refused too.
        let crossSite = try await browser.post(
          "/dashboard/dead/delete", form + [("csrf", token)], cookie: session, origin: "http://evil.example")
        #expect(crossSite.status == .forbidden)
        #expect(try await broker.deadIDs(queue: queue) == [id])

        // The page's own form: deleted.
        let done = try await browser.post("/dashboard/dead/delete", form + [("csrf", token)], cookie: session)
        #expect(done.status == .seeOther && done.location == "/dashboard/dead?deleted=1")
        #expect(try await broker.deadIDs(queue: queue).isEmpty)
      }
    }

    @Test func failedLoginsWaitPerKeyAndPerAddressEvenWithTheRightKey() async throws {
      try await TestDatabase.migrate()
      let pool = try TestDatabase.pool(size: 1)
      defer { pool.close() }
      let store = Store(pool: pool)
      let target = try await store.createAPIKey(tenant: nil, admin: true)
      let other = try await store.createAPIKey(tenant: nil, admin: true)
      // In process every request has the same (unknown) address; start and end with it clean.
      let clear = "DELETE FROM dashboard_login_failures WHERE scope = 'address:unknown'"
      try await pool.query(clear)
      var limits = EnqueuerServer.Limits()
      limits.loginThrottle.perKey = 3
      limits.loginThrottle.perAddress = 6
      do {
        try await withInProcessEnqueuer(limits: limits) { client in
          let browser = Browser(client: client)
          // Guesses at the target key's secret: 3 are answered "no", then even the right key waits.
          let guess = "whago_" + target.record.prefix + String(repeating: "x", count: 32)
          for _ in 0..<3 {
            #expect(try await browser.post("/dashboard/login", [("key", guess)]).status == .forbidden)
          }
          let waiting = try await client.execute(
            uri: "/dashboard/login", method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: "key=\(target.key)")
          ) { ($0.status, $0.headers[.retryAfter], $0.headers[.setCookie], String(buffer: $0.body)) }
          #expect(waiting.0 == .tooManyRequests && waiting.2 == nil)
          let seconds = try #require(waiting.1.flatMap { Int($0) })
          #expect((1...900).contains(seconds))
          #expect(waiting.3.contains("Too many failed logins"))
          // Another admin key is not held back by the target's failures.
          _ = try await browser.login(other.key)

          // Three more failures from this address (6 in all): now every key waits here.
          for _ in 0..<3 {
            #expect(try await browser.post("/dashboard/login", [("key", "not a key")]).status == .forbidden)
          }
          #expect(try await browser.post("/dashboard/login", [("key", other.key)]).status == .tooManyRequests)
          let counted = try await pool.query(
            "SELECT count(*)::bigint AS n FROM dashboard_login_failures WHERE scope = $1",
            ["key:" + target.record.prefix])
          #expect(try counted.rows[0].decode("n", as: Int64.self) == 3, "waiting logins are not counted again")
        }
      } catch {
        _ = try? await pool.query(clear)
        throw error
      }
      try await pool.query(clear)
    }
  }
}
