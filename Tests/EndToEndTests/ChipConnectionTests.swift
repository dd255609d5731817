import Foundation
import Postgres
import RedisClient
import TestSupport
import Testing

/// Connecting WhatsApp numbers end to end, as a tenant does it: chips created through the API,
/// whago's workers creating the tenant's WAHA container through the Docker Engine API (`whago sim
/// docker`, which really starts a `whago sim waha` per container), a proxy id per chip from the
/// operators' pool, the QR code and pairing code through the API, the phone "scanned" through the
/// simulator, statuses from signed webhooks, a campaign sent through the new chips, a proxy
/// rotated and a chip deleted.
@Suite(.serialized) struct ChipConnectionTests {
  @Test func threeChipsCreatedAtOnceShareOneContainerLinkTheirPhonesAndSendACampaign() async throws {
    try await TestDatabase.migrate()
    let planName = "p" + TestDatabase.tenantName().dropFirst()
    try await TestDatabase.whago(
      ["plan", "set", planName, "--from", "enterprise", "api_requests_per_hour=unlimited", "min_send_gap_ms=0"])
    let tenant = try await TestDatabase.tenant(plan: planName)
    try await TestDatabase.whago([
      "tenant", "set-window", tenant, "--start", "00:00", "--end", "24:00", "--days", "1-7",
    ])
    let key = try await TestDatabase.apiKey(tenant: tenant)
    let secretKey = TestDatabase.secretKey
    let database = try TestDatabase.urlText
    let redis = try TestRedis.url.description

    // The operator adds a proxy account; its password goes in through a file and never comes out.
    let login = "login\(UInt32.random(in: 0...UInt32.max))"
    let passwordFile = FileManager.default.temporaryDirectory.appendingPathComponent("pw-\(login)")
    try Data("pw-\(login)-secret\n".utf8).write(to: passwordFile)
    defer { try? FileManager.default.removeItem(at: passwordFile) }
    let added = try await Whago.run(
      [
        "proxy", "add", "--provider", "dataimpulse", "--host", "gw.dataimpulse.com", "--port", "824", "--username",
        login, "--password-file", passwordFile.path, "--country", "br",
      ], redis: redis, environment: ["WHAGO_DATABASE_URL": database, "WHAGO_SECRET_KEY": secretKey])
    #expect(added.status == 0, "\(added.output)")
    #expect(!added.output.contains("secret"))
    let listed = try await Whago.run(
      ["proxy", "list"], redis: redis, environment: ["WHAGO_DATABASE_URL": database])
    #expect(listed.output.contains(login) && !listed.output.contains("secret"))

    let queue = TestRedis.queue()
    let catalog = try TestCatalog(
      try CampaignRun.catalogJSON(
        queue: queue,
        types: [
          "campaign.start", "campaign.send", "chip.provision", "chip.release", "container.ensure", "chip.restart",
          "containers.monitor",
        ],
        edit: { catalog in
          var catalog = catalog
          // The fleet monitor every second instead of every minute.
          catalog["schedules"] = [
            "containers.monitor": [
              "cron": "* * * * * *", "timezone": "UTC", "job": "containers.monitor", "missed": "skip",
              "missed_after_ms": 5000,
            ]
          ]
          return catalog
        }))
    let (docker, dockerPort) = try await Whago.server(["sim", "docker"], label: "docker-sim")
    let base = Self.portBase()
    let common = [
      "WHAGO_JOBS_DIR": catalog.directory, "WHAGO_WAHA_WEBHOOK_SECRET": "whsec-\(UUID().uuidString)",
      "WHAGO_SECRET_KEY": secretKey, "WHAGO_CONTAINER_PORTS": "\(base)-\(base + 9)",
      "WHAGO_DOCKER_HOST": "http://127.0.0.1:\(dockerPort)",
      // No internal address is open to tenants' URLs: whago's own containers on loopback are
      // reached all the same, for provisioning, the QR code and the campaign's sends.
      "WHAGO_OUTBOUND_ALLOW": "",
    ]
    let serve = try await ServeProcess(environment: common)
    let worker = try ChildProcess(
      executable: try Whago.binary,
      arguments: ["work", "--queues", queue, "--concurrency", "16", "--lease", "5s", "--grace", "5s"],
      environment: common.merging([
        "WHAGO_REDIS_URL": redis, "WHAGO_DATABASE_URL": database, "WHAGO_CHIP_RECHECK": "500ms",
        "WHAGO_DOCKER_HOST": "http://127.0.0.1:\(dockerPort)", "WHAGO_PUBLIC_URL": serve.base,
        "WHAGO_CONTAINER_STOPPED_ALERT_S": "0",
      ]) { _, mine in mine }, label: "worker")
    let pool = try TestDatabase.pool(size: 1)
    defer {
      worker.signal(SIGKILL)
      // SIGTERM: the Docker simulator stops its containers' processes before it exits.
      docker.signal(SIGTERM)
      pool.close()
    }
    do {
      // Three chips at once, without a WAHA address: whago connects them.
      let ids = try await withThrowingTaskGroup(of: Int.self) { group in
        for index in 0..<3 {
          group.addTask {
            let reply = try await HTTP.send("POST", serve.base + "/v1/chips", key: key, json: ["name": "chip\(index)"])
            guard reply.status == 202, let id = try reply.json()["id"] as? Int else {
              throw TestSetupError("POST /v1/chips answered \(reply.status): \(reply.text)")
            }
            #expect(try reply.json()["managed"] as? Bool == true)
            return id
          }
        }
        return try await group.reduce(into: [Int]()) { $0.append($1) }.sorted()
      }
      func chip(_ id: Int) async throws -> [String: Any] {
        try await HTTP.send("GET", serve.base + "/v1/chips/\(id)", key: key).json()
      }
      try await eventually("the chips to wait for a QR scan", within: .seconds(90), every: .milliseconds(200)) {
        for id in ids {
          let json = try await chip(id)
          guard json["provisioning_step"] as? String == "done", json["status"] as? String == "SCAN_QR_CODE" else {
            return false
          }
        }
        return true
      }

      // Exactly one container, named for the tenant, on a port of the range.
      let containers = try await HTTP.send("GET", "http://127.0.0.1:\(dockerPort)/_sim/containers")
      let all = try #require(try JSONSerialization.jsonObject(with: containers.body) as? [[String: Any]])
      let mine = all.filter {
        (($0["Config"] as? [String: Any])?["Labels"] as? [String: String])?["com.whago.tenant"] == tenant
      }
      #expect(mine.count == 1)
      let port = try await pool.query(
        "SELECT w.host_port FROM waha_containers w JOIN tenants t ON t.id = w.tenant_id WHERE t.name = $1", [tenant]
      )[0].decode("host_port", as: Int.self)
      #expect((base...(base + 9)).contains(port))
      let waha = "http://127.0.0.1:\(port)"

      // Three sessions, each through the pool's proxy with an id of its own, each with its webhook.
      let sessions = try #require(
        try JSONSerialization.jsonObject(with: try await HTTP.send("GET", waha + "/_sim/sessions").body)
          as? [[String: Any]])
      #expect(sessions.count == 3)
      var stickyIDs: Set<String> = []
      var sessionOf: [Int: String] = [:]
      for session in sessions {
        let config = try #require(session["config"] as? [String: Any])
        let proxy = try #require(config["proxy"] as? [String: Any])
        let username = try #require(proxy["username"] as? String)
        // The pool is shared with suites running meanwhile: a chip may draw another's account.
        if username.hasPrefix(login) {
          #expect(username.hasPrefix("\(login)__cr.br;sessid."))
          #expect(proxy["server"] as? String == "socks5://gw.dataimpulse.com:824")
          #expect(proxy["password"] as? String == "pw-\(login)-secret")
        } else {
          #expect((proxy["password"] as? String)?.isEmpty == false)
        }
        stickyIDs.insert(String(username.suffix(12)))
        let hook = try #require((config["webhooks"] as? [[String: Any]])?.first)
        let url = try #require(hook["url"] as? String)
        let id = try #require(Int(url.split(separator: "/").last ?? ""))
        #expect(url == serve.base + "/v1/webhooks/waha/chips/\(id)")
        sessionOf[id] = session["name"] as? String
        // The metadata WAHA echoes in every webhook names the chip, as the shared receiver reads it.
        #expect((config["metadata"] as? [String: String])?["whago_chip_id"] == "\(id)")
      }
      #expect(stickyIDs.count == 3)
      #expect(Set(sessionOf.keys) == Set(ids))

      // The QR code, as the front end shows it; a pairing code for a phone that cannot scan.
      let qr = try await HTTP.send("GET", serve.base + "/v1/chips/\(ids[0])/qr", key: key)
      #expect(qr.status == 200, "\(qr.text)")
      #expect(try qr.json()["mimetype"] as? String == "image/png")
      let png = try #require(Data(base64Encoded: try qr.json()["data"] as? String ?? ""))
      #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
      let pairing = try await HTTP.send(
        "POST", serve.base + "/v1/chips/\(ids[1])/pairing-code", key: key, json: ["phone": "5511987654321"])
      #expect(pairing.status == 200, "\(pairing.text)")
      #expect((try pairing.json()["code"] as? String)?.count == 9)
      let badPhone = try await HTTP.send(
        "POST", serve.base + "/v1/chips/\(ids[1])/pairing-code", key: key, json: ["phone": "+55 11"])
      #expect(badPhone.status == 422)

      // Each phone scans; signed session.status webhooks make the chips WORKING.
      for id in ids {
        let scanned = try await HTTP.send(
          "POST", waha + "/_sim/sessions/\(sessionOf[id] ?? "")/scan", headers: ["Content-Type": "application/json"],
          body: Data("{}".utf8))
        #expect(scanned.status == 200, "\(scanned.text)")
      }
      try await eventually("the chips to be WORKING", within: .seconds(30), every: .milliseconds(200)) {
        for id in ids where try await chip(id)["status"] as? String != "WORKING" { return false }
        return true
      }
      let linked = try await HTTP.send("GET", serve.base + "/v1/chips/\(ids[0])/qr", key: key)
      #expect(linked.status == 409)

      // A campaign sends through them: each recipient once.
      let phones = CampaignRun.phones(6)
      let created = try await HTTP.send(
        "POST", serve.base + "/v1/campaigns", key: key,
        json: [
          "name": "onboarded", "template": "Oi {{nome}}", "chip_ids": ids,
          "pace": ["min_interval_ms": 0, "max_interval_ms": 0],
          "recipients": phones.map { ["phone": $0, "vars": ["nome": "x"]] },
        ])
      let campaign = try #require(try created.json()["id"] as? Int, "\(created.text)")
      #expect(try await HTTP.send("POST", serve.base + "/v1/campaigns/\(campaign)/start", key: key).status == 200)
      try await eventually("the campaign to complete", within: .seconds(90), every: .milliseconds(200)) {
        try await HTTP.send("GET", serve.base + "/v1/campaigns/\(campaign)", key: key).json()["status"] as? String
          == "completed"
      }
      let log = try #require(
        try JSONSerialization.jsonObject(with: try await HTTP.send("GET", waha + "/_sim/messages").body)
          as? [[String: Any]])
      let recipients = log.compactMap { ($0["chatId"] as? String)?.prefix(while: { $0 != "@" }) }.map { "+" + $0 }
      #expect(recipients.sorted() == phones.sorted())

      // WhatsApp drops a session: it goes FAILED, and chip.restart brings it back.
      let dropped = try await HTTP.send(
        "POST", waha + "/_sim/sessions/\(sessionOf[ids[1]] ?? "")/status",
        headers: ["Content-Type": "application/json"],
        body: Data(#"{"status":"FAILED"}"#.utf8))
      #expect(dropped.status == 200, "\(dropped.text)")
      try await eventually("the failed chip to be restarted", within: .seconds(30), every: .milliseconds(200)) {
        let types = try await pool.query(
          """
          SELECT array_agg(kind ORDER BY id)::text AS types FROM events
          WHERE subject_type = 'chip' AND subject_id = $1 AND kind IN ('chip.failed', 'chip.working')
          """, [ids[1]]
        ).first?.text("types")
        let status = try await chip(ids[1])["status"] as? String
        return types?.hasSuffix("chip.failed,chip.working}") == true && status == "WORKING"
      }

      // A new proxy id for one chip: the session is updated and restarted, and stays linked.
      let rotated = try await HTTP.send("POST", serve.base + "/v1/chips/\(ids[2])/rotate-proxy", key: key)
      #expect(rotated.status == 202, "\(rotated.text)")
      try await eventually("the session to run on a new proxy id", within: .seconds(30), every: .milliseconds(200)) {
        let session =
          try JSONSerialization.jsonObject(
            with: try await HTTP.send(
              "GET", waha + "/api/sessions/\(sessionOf[ids[2]] ?? "")",
              headers: ["X-Api-Key": try await containerKey(pool, tenant)]
            ).body) as? [String: Any]
        let username = ((session?["config"] as? [String: Any])?["proxy"] as? [String: Any])?["username"] as? String
        return username.map { !stickyIDs.contains(String($0.suffix(12))) } == true
          && session?["status"] as? String == "WORKING"
      }

      // A rotation whose job was never enqueued (serve died after the database write): the
      // monitor sees the session on the old id and has chip.provision bring it in line.
      try await pool.query("UPDATE chips SET proxy_session = 'lostrotation' WHERE id = $1", [ids[1]])
      try await eventually("the session to move to the new id", within: .seconds(30), every: .milliseconds(200)) {
        let session =
          try JSONSerialization.jsonObject(
            with: try await HTTP.send(
              "GET", waha + "/api/sessions/\(sessionOf[ids[1]] ?? "")",
              headers: ["X-Api-Key": try await containerKey(pool, tenant)]
            ).body) as? [String: Any]
        let username = ((session?["config"] as? [String: Any])?["proxy"] as? [String: Any])?["username"] as? String
        return username?.hasSuffix("lostrotation") == true
      }

      // A deleted chip's session is logged out and deleted from the container.
      #expect(try await HTTP.send("DELETE", serve.base + "/v1/chips/\(ids[0])", key: key).status == 204)
      try await eventually("the session to be deleted", within: .seconds(30), every: .milliseconds(200)) {
        let left =
          try JSONSerialization.jsonObject(with: try await HTTP.send("GET", waha + "/_sim/sessions").body)
          as? [[String: Any]]
        return left?.count == 2 && left?.contains { $0["name"] as? String == sessionOf[ids[0]] } == false
      }
      #expect(try await HTTP.send("GET", serve.base + "/v1/chips/\(ids[0])/qr", key: key).status == 404)

      // A chip_ session no chip owns (its release never enqueued) is deleted by the monitor; a
      // session that is not whago's is left alone.
      let apiKey = try await containerKey(pool, tenant)
      for name in ["chip_left-behind", "not-whagos"] {
        let made = try await HTTP.send(
          "POST", waha + "/api/sessions", headers: ["X-Api-Key": apiKey, "Content-Type": "application/json"],
          body: Data(#"{"name":"\#(name)","start":false}"#.utf8))
        #expect(made.status == 201, "\(made.text)")
      }
      try await eventually("the left-behind session to be deleted", within: .seconds(20), every: .milliseconds(200)) {
        let names =
          (try JSONSerialization.jsonObject(with: try await HTTP.send("GET", waha + "/_sim/sessions").body)
          as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
        return !names.contains("chip_left-behind") && names.contains("not-whagos")
      }

      // The fleet monitor: memory over 90% raises its alert once and clears it; a container whago
      // labelled for a tenant it does not know is an orphan.
      let dockerBase = "http://127.0.0.1:\(dockerPort)"
      let name = try #require((mine.first?["Name"] as? String).map { String($0.dropFirst()) })
      let dockerID = try #require(mine.first?["Id"] as? String)
      func alert(_ kind: String, _ subject: String) async throws -> (active: Int, cleared: Int) {
        let row = try await pool.query(
          """
          SELECT count(*) FILTER (WHERE cleared_at IS NULL)::int AS active,
            count(*) FILTER (WHERE cleared_at IS NOT NULL)::int AS cleared
          FROM container_alerts WHERE kind = $1 AND subject = $2
          """, [kind, subject])[0]
        return (try row.decode("active"), try row.decode("cleared"))
      }
      let json = ["Content-Type": "application/json"]
      _ = try await HTTP.send(
        "POST", dockerBase + "/_sim/containers/\(dockerID)/memory", headers: json, body: Data(#"{"percent":95}"#.utf8))
      try await eventually("the memory alert", within: .seconds(20)) { try await alert("memory", name).active == 1 }
      _ = try await HTTP.send(
        "POST", dockerBase + "/_sim/containers/\(dockerID)/memory", headers: json, body: Data(#"{"percent":10}"#.utf8))
      try await eventually("the memory alert to clear", within: .seconds(20)) {
        try await alert("memory", name) == (0, 1)
      }
      let orphanName = "waha_plus_user_\(UUID().uuidString.lowercased())"
      let orphan = try await HTTP.send(
        "POST", dockerBase + "/v1.45/containers/create?name=\(orphanName)", headers: json,
        body: try JSONSerialization.data(withJSONObject: [
          "Image": "devlikeapro/waha-plus:latest",
          "Labels": ["com.whago.managed": "true", "com.whago.tenant": "gone-tenant"],
        ]))
      #expect(orphan.status == 201, "\(orphan.text)")
      try await eventually("the orphan alert", within: .seconds(20)) {
        try await alert("orphan", orphanName).active == 1
      }
      _ = try await HTTP.send("DELETE", dockerBase + "/v1.45/containers/\(orphanName)?force=true")
      try await eventually("the orphan alert to clear", within: .seconds(20)) {
        try await alert("orphan", orphanName) == (0, 1)
      }

      // The container's WAHA hangs (its process stopped, Docker still says running): after 3
      // samples without an answer the monitor restarts it, and the alert clears once it answers.
      func pid() async throws -> Int? {
        let state =
          try JSONSerialization.jsonObject(
            with: try await HTTP.send("GET", dockerBase + "/v1.45/containers/\(dockerID)/json").body) as? [String: Any]
        return (state?["State"] as? [String: Any])?["Pid"] as? Int
      }
      let hungPid = try await pid()
      #expect(try await HTTP.send("POST", dockerBase + "/_sim/containers/\(dockerID)/hang").status == 200)
      try await eventually("the hung container to be restarted", within: .seconds(60), every: .milliseconds(200)) {
        let now = try await pid()
        let unresponsive = try await alert("unresponsive", name)
        return now != nil && now != hungPid && unresponsive == (0, 1)
      }

      // The container exits for good (no restart policy would bring it back): the monitor records
      // it stopped and starts it again.
      let exited = try await HTTP.send(
        "POST", dockerBase + "/_sim/containers/\(dockerID)/exit", headers: json,
        body: Data(#"{"code":137,"restart":false}"#.utf8))
      #expect(exited.status == 200, "\(exited.text)")
      try await eventually("the container to be started again", within: .seconds(30), every: .milliseconds(200)) {
        let state =
          try JSONSerialization.jsonObject(
            with: try await HTTP.send("GET", dockerBase + "/v1.45/containers/\(dockerID)/json").body) as? [String: Any]
        let stopped = try await alert("stopped", name)
        return (state?["State"] as? [String: Any])?["Running"] as? Bool == true && stopped == (0, 1)
      }
      // The operator's tools: the CLI and the dashboard see the same container; one with chips is
      // not deleted.
      let cli = ["WHAGO_DATABASE_URL": database, "WHAGO_DOCKER_HOST": dockerBase]
      let list = try await Whago.run(["container", "list", "--json"], redis: redis, environment: cli)
      let listed = try #require(
        try JSONSerialization.jsonObject(with: Data(list.output.utf8)) as? [[String: Any]], "\(list.output)")
      let row = try #require(listed.first { $0["name"] as? String == name })
      #expect(
        row["sessions"] as? Int == 2 && row["state"] as? String == "running" && row["tenant"] as? String == tenant)
      let logs = try await Whago.run(["container", "logs", name, "--tail", "20"], redis: redis, environment: cli)
      #expect(logs.status == 0 && !logs.output.isEmpty, "\(logs.output)")
      let restartedByCLI = try await Whago.run(["container", "restart", name], redis: redis, environment: cli)
      #expect(
        restartedByCLI.status == 0 && restartedByCLI.output.contains("restarted \(name)"), "\(restartedByCLI.output)")
      let refused = try await Whago.run(["container", "delete", name, "--yes"], redis: redis, environment: cli)
      #expect(refused.status != 0 && refused.output.contains("delete the chips first"), "\(refused.output)")
      let alerts = try await Whago.run(["container", "alerts", "--all", "--json"], redis: redis, environment: cli)
      #expect(alerts.output.contains("\"memory\"") && alerts.output.contains(orphanName))
      let admin = try #require(
        try await TestDatabase.whago(["apikey", "create", "--admin", "--label", "chips", "--quiet"]).split(
          separator: "\n"
        ).last.map(String.init))
      let page = try await HTTP.send("GET", serve.base + "/dashboard/containers", key: admin)
      #expect(page.status == 200 && page.text.contains(name) && page.text.contains("id=\"usage-chart\""))
      // (URLSession follows the 303 to the page, which says what happened.)
      let restarted = try await HTTP.send(
        "POST", serve.base + "/dashboard/containers/restart", key: admin, json: "name=\(name)",
        headers: ["Content-Type": "application/x-www-form-urlencoded"])
      #expect(restarted.text.contains("Restarted"), "\(restarted.status) \(restarted.text.prefix(300))")
      let trail = try await pool.query(
        "SELECT count(*)::int AS n FROM dashboard_actions WHERE action = 'container.restart' AND target = $1 AND state = 'done'",
        [name])[0]
      #expect(try trail.decode("n", as: Int.self) == 1)
      let proxies = try await HTTP.send("GET", serve.base + "/dashboard/api/proxies", key: admin)
      #expect(proxies.text.contains(login) && !proxies.text.contains("secret"), "\(proxies.text)")

      let samples = try await pool.query(
        "SELECT count(*) FILTER (WHERE state = 'running')::int AS up, count(*) FILTER (WHERE state <> 'running')::int AS down FROM container_samples WHERE container_name = $1",
        [name])[0]
      #expect(try samples.decode("up", as: Int.self) > 0 && samples.decode("down", as: Int.self) > 0)
    } catch {
      try? await serve.stop()
      await Self.stop(docker)
      throw error
    }
    try await serve.stop()
    docker.signal(SIGTERM)
    #expect(
      try await docker.waitForExit(within: .seconds(20)) == 0, "the Docker simulator stops its containers and exits")
  }

  /// Ten container ports no other run takes, below Linux's ephemeral range (32768) so no client
  /// connection holds one.
  static func portBase() -> Int { 20_000 + Int.random(in: 0..<120) * 100 + 50 }

  /// A worker SIGKILLed while it provisions (the container created, its WAHA not answering yet):
  /// the next worker takes the job up and finishes it, and nothing exists twice: one container,
  /// one port, one session per chip.
  @Test func aWorkerKilledWhileProvisioningLeavesNothingTwice() async throws {
    try await TestDatabase.migrate()
    let tenant = try await TestDatabase.tenant(plan: "enterprise")
    let key = try await TestDatabase.apiKey(tenant: tenant)
    let database = try TestDatabase.urlText
    let redis = try TestRedis.url.description
    let login = "login\(UInt32.random(in: 0...UInt32.max))"
    let passwordFile = FileManager.default.temporaryDirectory.appendingPathComponent("pw-\(login)")
    try Data("pw\n".utf8).write(to: passwordFile)
    defer { try? FileManager.default.removeItem(at: passwordFile) }
    let added = try await Whago.run(
      [
        "proxy", "add", "--provider", "dataimpulse", "--host", "gw.dataimpulse.com", "--port", "824", "--username",
        login, "--password-file", passwordFile.path,
      ], redis: redis, environment: ["WHAGO_DATABASE_URL": database, "WHAGO_SECRET_KEY": TestDatabase.secretKey])
    #expect(added.status == 0, "\(added.output)")
    let queue = TestRedis.queue()
    let catalog = try TestCatalog(
      try CampaignRun.catalogJSON(queue: queue, types: ["chip.provision", "container.ensure"]))
    // A new host: the image is pulled before the first container is created.
    let (docker, dockerPort) = try await Whago.server(["sim", "docker", "--require-pull"], label: "docker-sim")
    let base = Self.portBase()
    let common = [
      "WHAGO_JOBS_DIR": catalog.directory, "WHAGO_SECRET_KEY": TestDatabase.secretKey,
      "WHAGO_CONTAINER_PORTS": "\(base)-\(base + 9)", "WHAGO_DOCKER_HOST": "http://127.0.0.1:\(dockerPort)",
    ]
    let serve = try await ServeProcess(environment: common)
    func worker() throws -> ChildProcess {
      try ChildProcess(
        executable: try Whago.binary,
        arguments: ["work", "--queues", queue, "--concurrency", "8", "--lease", "2s", "--grace", "1s"],
        environment: common.merging([
          "WHAGO_REDIS_URL": redis, "WHAGO_DATABASE_URL": database, "WHAGO_PUBLIC_URL": serve.base,
          "WHAGO_CONTAINER_READY_TIMEOUT_S": "60",
        ]) { _, mine in mine }, label: "worker")
    }
    let pool = try TestDatabase.pool(size: 1)
    let first = try worker()
    var second: ChildProcess?
    defer {
      first.signal(SIGKILL)
      second?.signal(SIGKILL)
      docker.signal(SIGTERM)
      pool.close()
    }
    let dockerBase = "http://127.0.0.1:\(dockerPort)"
    func containers() async throws -> [[String: Any]] {
      let all =
        try JSONSerialization.jsonObject(
          with: try await HTTP.send("GET", dockerBase + "/_sim/containers").body) as? [[String: Any]] ?? []
      return all.filter {
        (($0["Config"] as? [String: Any])?["Labels"] as? [String: String])?["com.whago.tenant"] == tenant
      }
    }
    do {
      // The container is created and started, but hangs before its WAHA answers: the provisioning
      // run waits in the middle of its first step.
      var ids: [Int] = []
      for index in 0..<2 {
        let reply = try await HTTP.send("POST", serve.base + "/v1/chips", key: key, json: ["name": "c\(index)"])
        ids.append(try #require(try reply.json()["id"] as? Int, "\(reply.text)"))
      }
      var id = ""
      try await eventually("the container to be created", within: .seconds(30), every: .milliseconds(20)) {
        guard let created = try await containers().first?["Id"] as? String else { return false }
        id = created
        return true
      }
      _ = try await HTTP.send("POST", dockerBase + "/_sim/containers/\(id)/hang")
      first.signal(SIGKILL)
      _ = try await first.waitForExit(within: .seconds(10))
      _ = try await HTTP.send("POST", dockerBase + "/_sim/containers/\(id)/resume")
      second = try worker()
      try await eventually("both chips to be connected", within: .seconds(60), every: .milliseconds(200)) {
        for chip in ids {
          let json = try await HTTP.send("GET", serve.base + "/v1/chips/\(chip)", key: key).json()
          guard json["provisioning_step"] as? String == "done" else { return false }
        }
        return true
      }
      #expect(try await containers().count == 1)
      let rows = try await pool.query(
        "SELECT count(*)::int AS n, min(host_port) AS port FROM waha_containers w JOIN tenants t ON t.id = w.tenant_id WHERE t.name = $1",
        [tenant])[0]
      #expect(try rows.decode("n", as: Int.self) == 1)
      let port: Int = try rows.decode("port")
      let sessions =
        try JSONSerialization.jsonObject(
          with: try await HTTP.send("GET", "http://127.0.0.1:\(port)/_sim/sessions").body) as? [[String: Any]]
      #expect(sessions?.count == 2)
      #expect(Set(sessions?.compactMap { $0["name"] as? String } ?? []).count == 2)
    } catch {
      try? await serve.stop()
      await Self.stop(docker)
      throw error
    }
    try await serve.stop()
    await Self.stop(docker)
  }

  /// SIGTERM, and the wait for the Docker simulator to stop its containers' processes: a
  /// simulator killed outright (as a ChildProcess going away does) would leave them running.
  static func stop(_ docker: ChildProcess) async {
    docker.signal(SIGTERM)
    _ = try? await docker.waitForExit(within: .seconds(20))
  }

  func containerKey(_ pool: PostgresPool, _ tenant: String) async throws -> String {
    try await pool.query(
      "SELECT w.api_key FROM waha_containers w JOIN tenants t ON t.id = w.tenant_id WHERE t.name = $1", [tenant]
    )[0].decode("api_key")
  }
}
