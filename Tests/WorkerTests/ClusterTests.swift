import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Redis Cluster (`redis+cluster://`): the client routes each command to the master of its key's
/// slot, follows MOVED and ASK through a slot migration, and workers keep every acknowledged job
/// through a master's SIGKILL and its replica's promotion. One 3-master, 3-replica cluster per test.
@Suite(.serialized) struct ClusterTests {
  @Test func commandsAndScriptsGoToTheMasterOfTheirSlotAndFollowAMigration() async throws {
    let cluster = try await ClusterGroup.start()
    defer { cluster.stop() }
    let redis = RedisClient(url: try RedisURL(cluster.url))
    defer { redis.close() }
    #expect(redis.isCluster)
    #expect(try await redis.masters().count == 3)

    // One pipeline over keys of every node comes back in order.
    let keys = (0..<300).map { "whago:test:k\($0)" }
    let set = try await redis.pipeline(keys.map { RedisCommand("SET", $0, "v-" + $0) })
    #expect(set.allSatisfy { $0.string == "OK" }, "\(set.first { $0.string != "OK" } ?? .null)")
    let got = try await redis.pipeline(keys.map { RedisCommand("GET", $0) })
    #expect(got.map { $0.string ?? "" } == keys.map { "v-" + $0 })
    var counts: [Int] = []
    for master in try await redis.masters() {
      let node = RedisClient(url: master)
      defer { node.close() }
      counts.append(Int(try await node.send("DBSIZE").int ?? 0))
    }
    #expect(counts.count == 3 && counts.allSatisfy { $0 > 0 } && counts.reduce(0, +) == 300, "\(counts)")
    // The slot the client computes is the one the server does.
    let node = cluster.client(port: cluster.ports[0])
    defer { node.close() }
    for key in keys.prefix(40) + ["whago:{q}:ready", "{a}{b}", "x{}y", "123456789"] {
      #expect(try await node.send("CLUSTER", "KEYSLOT", key).int == Int64(ClusterSlot.of(key)), "\(key)")
    }

    // A script runs on each key's own node: SCRIPT LOAD reached one node, the others answer
    // NOSCRIPT and are sent the source once.
    let increment = RedisScript("test.increment", "return redis.call('INCRBY', KEYS[1], ARGV[1])")
    for key in keys.prefix(30) {
      #expect(try await redis.evaluate(increment, keys: [key + ":n"], arguments: ["7"]).int == 7)
    }
    let again = try await redis.evaluateAll(increment, calls: keys.prefix(30).map { ([$0 + ":n"], ["1"]) })
    #expect(again.map { $0.int } == Array(repeating: 8, count: 30))

    // A slot in migration: keys already moved, or new, are answered through ASK at the target;
    // once the slot is the target's, MOVED sends the client there.
    let probe = "whago:{moving}:old"
    try await redis.send("SET", probe, "before")
    let sourcePort = try await cluster.masterPort(of: probe)
    let masters = try await redis.masters().compactMap { url -> Int? in
      if case .tcp(_, let port) = url.endpoint { return port } else { return nil }
    }
    let targetPort = try #require(masters.first { $0 != sourcePort })
    let slot = ClusterSlot.of(probe)
    try await Self.migrate(slot: slot, from: sourcePort, to: targetPort, in: cluster) {
      // The slot's one key has moved; the slot is still the source's, migrating.
      let source = cluster.client(port: sourcePort)
      defer { source.close() }
      #expect(try await source.send("CLUSTER", "COUNTKEYSINSLOT", String(slot)).int == 0)
      #expect(try await redis.send("GET", probe).string == "before", "moved: reached through ASK")
      try await redis.send("SET", "whago:{moving}:new", "during")  // absent at the source: ASK
      let target = cluster.client(port: targetPort)
      defer { target.close() }
      let asked = try await target.pipeline([RedisCommand("ASKING"), RedisCommand("GET", "whago:{moving}:new")])
      #expect(asked[1].string == "during", "written at the target")
    }
    #expect(try await redis.send("GET", probe).string == "before", "the slot is the target's: MOVED")
    #expect(try await redis.send("GET", "whago:{moving}:new").string == "during")
    #expect(try await cluster.masterPort(of: probe) == targetPort)

    // A single-server client pointed at a cluster node says what to change.
    let single = cluster.client(port: sourcePort)
    defer { single.close() }
    do {
      try await single.send("GET", probe)
      Issue.record("a MOVED reply was taken for a value")
    } catch let error as RedisError {
      #expect(error.message.contains("redis+cluster://"), "\(error)")
    }
  }

  /// Seven queues over three masters, three workers: a queue's slot is migrated to another master
  /// while its worker runs and jobs keep coming into it, then a master is SIGKILLed and its
  /// replica promoted. With the queues'
  /// durability (WAIT 1 after each enqueue and ack) no acknowledged job is lost; a job whose run
  /// was not yet acknowledged on the replica may run again (at least once), and is counted.
  @Test func jobsOfSixQueuesRunThroughASlotMigrationAndAFailover() async throws {
    let cluster = try await ClusterGroup.start()
    defer { cluster.stop() }
    let tag = UInt32.random(in: 0...UInt32.max)
    // Names that differ in one character hash to nearby slots (CRC16 is linear): pick them so that
    // each master holds two of the six.
    var queues: [String] = []
    var perMaster: [Int: Int] = [:]
    var candidate = 0
    while queues.count < 6 {
      let name = "cq\(candidate)-\(tag)"
      candidate += 1
      let port = try await cluster.masterPort(of: QueueKeys(queue: name).ready)
      if perMaster[port, default: 0] < 2 {
        perMaster[port, default: 0] += 1
        queues.append(name)
      }
    }
    let moving = "cmove-\(tag)"
    let durability = Durability(replicas: 1, timeout: .seconds(2))
    let catalog = try TestCatalog(try Self.catalog(durable: queues + [moving]))
    let redis = RedisClient(url: try RedisURL(cluster.url))
    defer { redis.close() }
    let broker = Broker(
      redis: redis, durability: Dictionary(uniqueKeysWithValues: (queues + [moving]).map { ($0, durability) }))

    // Acknowledged ids, from enqueue calls that returned (a call that threw is sent again with the
    // same idempotency keys).
    var acknowledged: [String: Set<String>] = [:]
    func produce(round: Int, into targets: [String], perQueue: Int = 100) async throws {
      for (queue, id) in try await Self.submit(broker, round: round, into: targets, perQueue: perQueue) {
        acknowledged[queue, default: []].insert(id)
      }
    }

    // The queue to migrate starts with 300 jobs; every worker serves it and the six others.
    try await produce(round: 0, into: [moving], perQueue: 300)
    let all = queues + [moving]
    var workers: [ChildProcess] = []
    defer { for worker in workers { worker.signal(SIGKILL) } }
    for n in 0..<3 {
      workers.append(
        try catalog.worker(
          redis: cluster.url, queues: all.joined(separator: ","), concurrency: 16,
          extra: ["--lease", "2s", "--name", "cluster-worker-\(n)"]))
    }
    for round in 1...4 { try await produce(round: round, into: queues) }

    // Move the live queue's slot, key by key as `redis-cli --cluster reshard` does, while its
    // worker runs and rounds keep coming into it and the others. Its scripts declare the job
    // prefix, a key that never exists, so Redis answers them TRYAGAIN on both nodes until the slot
    // has settled: the queue waits out the migration instead of seeing half its keys moved.
    let movingKey = QueueKeys(queue: moving).ready
    let sourcePort = try await cluster.masterPort(of: movingKey)
    let targetPort = try #require(
      Set(try await queues.asyncMap { try await cluster.masterPort(of: QueueKeys(queue: $0).ready) }).first {
        $0 != sourcePort
      })
    func refusedMidMigration() async throws -> Int {
      var refused = 0
      for port in [sourcePort, targetPort] {
        let node = cluster.client(port: port)
        defer { node.close() }
        let stats = try await node.send("INFO", "errorstats").string ?? ""
        for line in stats.split(whereSeparator: \.isNewline) where line.hasPrefix("errorstat_TRYAGAIN:count=") {
          refused += Int(line.dropFirst("errorstat_TRYAGAIN:count=".count)) ?? 0
        }
      }
      return refused
    }
    var midway: Task<[(queue: String, id: String)], any Error>?
    try await Self.migrate(slot: ClusterSlot.of(movingKey), from: sourcePort, to: targetPort, in: cluster) {
      // Halfway: a round into all seven queues is sent, and the migration goes on only once Redis
      // has refused a script on the slot (TRYAGAIN); that round is answered after the slot settles.
      midway = Task { try await Self.submit(broker, round: 5, into: all, perQueue: 100) }
      try await eventually("a script on the moving slot to be refused", within: .seconds(30)) {
        try await refusedMidMigration() > 0
      }
    }
    for (queue, id) in try await #require(midway).value { acknowledged[queue, default: []].insert(id) }
    var round = 6
    print("cluster migration: \(try await refusedMidMigration()) scripts refused with TRYAGAIN while the slot moved")
    #expect(try await cluster.masterPort(of: movingKey) == targetPort)

    // A master dies while jobs flow; the queues it does not hold keep being fed meanwhile.
    let victim = try await cluster.masterPort(of: QueueKeys(queue: queues[0]).ready)
    let hit = try await all.asyncFilter { try await cluster.masterPort(of: QueueKeys(queue: $0).ready) == victim }
    #expect((2...3).contains(hit.count), "the dead master held \(hit.count) of the 7 queues")
    cluster.kill(port: victim)
    for _ in 0..<2 {
      try await produce(round: round, into: all.filter { !hit.contains($0) })
      round += 1
    }
    try await eventually(
      "a replica to take over the dead master's slots", within: .seconds(60), every: .milliseconds(100)
    ) {
      (try? await cluster.masterPort(of: QueueKeys(queue: queues[0]).ready)).map { $0 != victim } ?? false
    }
    try await cluster.waitUntilHealthy()
    // Back as the new master's replica, so WAIT 1 holds for its queues again.
    try await cluster.restart(port: victim)
    try await cluster.waitForReplicas()
    for _ in 0..<4 {
      try await produce(round: round, into: all)
      round += 1
    }

    try await eventually("every acknowledged job to finish", within: .seconds(180), every: .milliseconds(250)) {
      for queue in all {
        let stats = try await broker.stats(queues: [queue])[0]
        if stats.ready + stats.scheduled + stats.active > 0 { return false }
      }
      return true
    }
    var lost: [String] = []
    var repeated = 0
    var total = 0
    for queue in all {
      let witness = try await redis.send("HGETALL", QueueKeys(queue: queue).witness).array ?? []
      var runs: [String: Int] = [:]
      for pair in stride(from: 0, to: witness.count - 1, by: 2) {
        runs[witness[pair].string ?? ""] = Int(witness[pair + 1].string ?? "") ?? 0
      }
      for id in acknowledged[queue] ?? [] {
        total += 1
        let count = runs[id] ?? 0
        if count == 0 { lost.append("\(queue)/\(id)") }
        if count > 1 { repeated += 1 }
        #expect(try await broker.job(id: id).state == .done, "\(queue)/\(id)")
      }
    }
    // Round 0: 300 on the moved queue; rounds 1-4: 100 on each of the six others; the round during
    // the migration and the 4 after the failover: 100 on each of the 7; the 2 during the failover:
    // 100 on each queue the dead master did not hold.
    let expected = 300 + 4 * 600 + 5 * 700 + 2 * 100 * (7 - hit.count)
    #expect(total == expected, "queues on the dead master: \(hit.count)")
    #expect(lost.isEmpty, "acknowledged jobs that never ran: \(lost.prefix(10))")
    // At least once: what the failover repeated is reported, not hidden.
    print(
      "cluster: \(total) acknowledged jobs, \(hit.count) queues on the dead master; \(lost.count) lost, "
        + "\(repeated) ran more than once")
    for worker in workers { #expect(worker.isRunning, "\(worker.output.suffix(2000))") }
    // Operator tools see every master: each queue with what it processed.
    let listed = try await Whago.run(["queues"], redis: cluster.url)
    #expect(listed.status == 0, "\(listed.output)")
    for queue in all { #expect(listed.output.contains(queue), "whago queues misses \(queue): \(listed.output)") }
  }

  /// Many hosts: three worker processes with names of their own serve three queues on three
  /// different masters, and every job takes from one bucket (on the master of `{limits}`). In no
  /// window of the tokens' times does the bucket give more than its capacity plus its refill. The
  /// three also schedule an hourly job on a clock an hour a second fast: each slot fires once.
  @Test func oneBucketAndOneScheduleHoldAcrossWorkersAndMasters() async throws {
    let cluster = try await ClusterGroup.start()
    defer { cluster.stop() }
    let capacity = 5.0
    let rate = 40.0
    let perQueue = 60
    var queues: [String] = []
    var masters: Set<Int> = []
    var n = 0
    while queues.count < 3 {
      let queue = "crl\(n)-\(UInt16.random(in: 0...UInt16.max))"
      n += 1
      if masters.insert(try await cluster.masterPort(of: QueueKeys(queue: queue).ready)).inserted {
        queues.append(queue)
      }
    }
    let bucket = "t-crl-\(UUID().uuidString.prefix(8))"
    let queueEntries = queues.map { #""\#($0)": {"weight": 1}"# }.joined(separator: ", ")
    let catalog = try TestCatalog(
      """
      {"queues": {\(queueEntries)},
       "jobs": {"diag.echo": {"queue": "\(queues[0])", "max_attempts": 3,
                              "limits": [{"bucket": "\(bucket):{lane}", "capacity": \(capacity), "per_second": "{rate}"}]},
                "diag.noop": {"queue": "\(queues[1])", "max_attempts": 3}},
       "schedules": {"cluster-hourly": {"cron": "0 * * * *", "timezone": "UTC", "job": "diag.noop", "missed": "skip"}}}
      """)
    let redis = RedisClient(url: try RedisURL(cluster.url))
    defer { redis.close() }
    let broker = Broker(redis: redis)
    let clock = "anchor=\(try await broker.redisTime()),start=1796094600000,speed=3600"
    _ = try await broker.enqueue(
      queues.flatMap { queue in
        (0..<perQueue).map { _ in
          JobSpec(type: "diag.echo", payload: #"{"witness":true,"lane":"a","rate":\#(rate)}"#, queue: queue)
        }
      })
    let workers = try (0..<3).map { host in
      try catalog.worker(
        redis: cluster.url, queues: queues.joined(separator: ","), concurrency: 16,
        extra: ["--name", "host-\(host)", "--schedule-clock", clock])
    }
    defer { for worker in workers { worker.signal(SIGKILL) } }
    try await eventually("all limited jobs to run", within: .seconds(90)) {
      var ran = 0
      for queue in queues { ran += Int(try await redis.send("ZCARD", QueueKeys(queue: queue).witnessTokens).int ?? 0) }
      return ran == perQueue * queues.count
    }
    try await eventually("five hourly slots", within: .seconds(60)) {
      try await broker.cronState(name: "cluster-hourly", queue: queues[1]).fired >= 5
    }
    // Every host registered through the cluster (its heartbeat script writes the `{workers}` slot).
    let live = try await broker.workers().map(\.name)
    for host in 0..<3 { #expect(live.contains("host-\(host)"), "\(live)") }
    for worker in workers { worker.signal(SIGTERM) }
    for worker in workers { _ = try await worker.waitForExit() }
    let cron = try await broker.cronState(name: "cluster-hourly", queue: queues[1])
    let scheduled = QueueKeys(queue: queues[1])
    var slots: [Int64] = []
    for set in [scheduled.finished, scheduled.scheduled, scheduled.leased] {
      for id in (try await redis.send("ZRANGE", set, "0", "-1").array ?? []).compactMap(\.string) {
        if let slot = try await redis.send("HGET", scheduled.job(id), "cs").string.flatMap({ Int64($0) }) {
          slots.append(slot)
        }
      }
    }
    for id in (try await redis.send("LRANGE", scheduled.ready, "0", "-1").array ?? []).compactMap(\.string) {
      if let slot = try await redis.send("HGET", scheduled.job(id), "cs").string.flatMap({ Int64($0) }) {
        slots.append(slot)
      }
    }
    #expect(slots.count == cron.fired, "every fire made exactly one job: \(slots.count) jobs, \(cron.fired) fires")
    #expect(Set(slots).count == slots.count, "a slot fired twice: \(slots.sorted())")
    var times: [Int64] = []
    for queue in queues {
      let keys = QueueKeys(queue: queue)
      #expect(try await redis.send("GET", keys.witnessEarly) == .null, "no run started before its token existed")
      let stamped = try await redis.send("ZRANGE", keys.witnessTokens, "0", "-1", "WITHSCORES").array ?? []
      times += stride(from: 1, to: stamped.count, by: 2).compactMap { stamped[$0].int }
    }
    times.sort()
    #expect(times.count == perQueue * queues.count)
    var worst = 0.0
    for i in times.indices {
      for j in i..<times.count {
        worst = max(worst, Double(j - i + 1) - (capacity + rate * Double(times[j] - times[i]) / 1000))
      }
    }
    #expect(worst <= 1e-6, "a window got \(worst) tokens more than allowed")
  }

  /// Enqueues `perQueue` witnessed jobs into each of `targets`, keyed by round, until a call is
  /// acknowledged whole (a call that threw is sent again with the same idempotency keys); returns
  /// the acknowledged ids.
  static func submit(_ broker: Broker, round: Int, into targets: [String], perQueue: Int) async throws -> [(
    queue: String, id: String
  )] {
    let jobs = targets.flatMap { queue in
      (0..<perQueue).map {
        JobSpec(
          type: "diag.echo", payload: #"{"witness":true}"#, queue: queue, maxAttempts: 25,
          idempotencyKey: "r\(round)-\($0)")
      }
    }
    var acknowledged: [(queue: String, id: String)] = []
    try await eventually("round \(round) to be acknowledged", within: .seconds(90), every: .milliseconds(200)) {
      guard let results = try? await broker.enqueue(jobs) else { return false }
      acknowledged = zip(jobs, results).map { ($0.queue, $1.id) }
      return true
    }
    return acknowledged
  }

  /// The project's catalog with `durable` queues that wait for one replica.
  static func catalog(durable: [String]) throws -> String {
    let path = (ProcessInfo.processInfo.environment["WHAGO_JOBS_DIR"] ?? "jobs") + "/catalog.json"
    guard
      var catalog = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        as? [String: Any],
      var queues = catalog["queues"] as? [String: Any]
    else { throw TestSetupError("jobs/catalog.json does not read") }
    for queue in durable { queues[queue] = ["weight": 1, "durability": ["replicas": 1, "timeout_ms": 2000]] }
    catalog["queues"] = queues
    return String(decoding: try JSONSerialization.data(withJSONObject: catalog), as: UTF8.self)
  }

  /// Migrates one slot as the cluster specification describes: IMPORTING on the target, MIGRATING
  /// on the source, MIGRATE the keys in batches, then the slot is the target's on every master.
  static func migrate(
    slot: Int, from sourcePort: Int, to targetPort: Int, in cluster: ClusterGroup,
    midway: () async throws -> Void = {}
  ) async throws {
    let source = cluster.client(port: sourcePort)
    let target = cluster.client(port: targetPort)
    defer {
      source.close()
      target.close()
    }
    let sourceID = try await cluster.nodeID(port: sourcePort)
    let targetID = try await cluster.nodeID(port: targetPort)
    try await target.send("CLUSTER", "SETSLOT", String(slot), "IMPORTING", sourceID)
    try await source.send("CLUSTER", "SETSLOT", String(slot), "MIGRATING", targetID)
    var batches = 0
    while true {
      let keys = (try await source.send("CLUSTER", "GETKEYSINSLOT", String(slot), "10").array ?? []).compactMap(
        \.string)
      if keys.isEmpty { break }
      try await source.send(
        RedisCommand("MIGRATE", ["127.0.0.1", String(targetPort), "", "0", "5000", "KEYS"] + keys))
      batches += 1
      if batches == 1 { try await midway() }
    }
    for port in cluster.ports where cluster.nodes[port]?.isRunning == true {
      let node = cluster.client(port: port)
      defer { node.close() }
      _ = try? await node.send("CLUSTER", "SETSLOT", String(slot), "NODE", targetID)
    }
  }
}

extension Sequence where Element: Sendable {
  fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
    var out: [T] = []
    for element in self { out.append(try await transform(element)) }
    return out
  }

  fileprivate func asyncFilter(_ include: (Element) async throws -> Bool) async rethrows -> [Element] {
    var out: [Element] = []
    for element in self where try await include(element) { out.append(element) }
    return out
  }
}
