import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

@Suite struct RedisClientTests {
  @Test func urlParsingAndRedaction() throws {
    let url = try RedisURL("redis://:s3cret@10.1.2.3:6380/4")
    #expect(url.endpoint == .tcp(host: "10.1.2.3", port: 6380))
    #expect(url.password == "s3cret")
    #expect(url.database == 4)
    #expect(!url.description.contains("s3cret"))
    let user = try RedisURL("redis://app:p%40ss@localhost")
    #expect(user.username == "app" && user.password == "p@ss" && user.database == 0)
    #expect(try RedisURL("unix:///run/redis.sock?db=2").endpoint == .unix(path: "/run/redis.sock"))
    #expect(throws: RedisError.self) { try RedisURL("http://localhost") }
    #expect(throws: RedisError.self) { try RedisURL("redis://localhost/notanumber") }
    #expect(throws: RedisError.self) { try RedisURL("redis://localhost:99999") }

    // An ACL user on a socket, and through sentinels.
    let socket = try RedisURL("unix:///run/redis.sock?user=whago-worker&password=pw")
    #expect(socket.username == "whago-worker" && socket.password == "pw")
    #expect(socket.description == "unix:///run/redis.sock?db=0&user=whago-worker&password=***")
    let sentinel = try RedisURL("redis+sentinel://app:p%40ss@s1:26380,s2,10.0.0.3:26381/mymaster/3")
    #expect(
      sentinel.endpoint
        == .sentinel(
          nodes: [
            .init(host: "s1", port: 26380), .init(host: "s2", port: 26379), .init(host: "10.0.0.3", port: 26381),
          ], master: "mymaster"))
    #expect(sentinel.username == "app" && sentinel.password == "p@ss" && sentinel.database == 3)
    #expect(sentinel.description == "redis+sentinel://app:***@s1:26380,s2:26379,10.0.0.3:26381/mymaster/3")
    #expect(try RedisURL("redis+sentinel://s1/m").database == 0)
    #expect(throws: RedisError.self) { try RedisURL("redis+sentinel://s1:26379") }
    #expect(throws: RedisError.self) { try RedisURL("redis+sentinel://s1:nope/m") }
    #expect(throws: RedisError.self) { try RedisURL("redis+sentinel:///m") }
    // A cluster: any nodes, credentials, database 0 only.
    let cluster = try RedisURL("redis+cluster://app:s3cret@n1:7000,n2,10.0.0.4:7002/")
    #expect(
      cluster.endpoint
        == .cluster(nodes: [
          .init(host: "n1", port: 7000), .init(host: "n2", port: 6379), .init(host: "10.0.0.4", port: 7002),
        ]))
    #expect(cluster.username == "app" && cluster.password == "s3cret")
    #expect(cluster.description == "redis+cluster://app:***@n1:7000,n2:6379,10.0.0.4:7002/")
    #expect(try RedisURL("redis+cluster://n1:7000").endpoint == .cluster(nodes: [.init(host: "n1", port: 7000)]))
    #expect(throws: RedisError.self) { try RedisURL("redis+cluster://n1:7000/2") }
    #expect(throws: RedisError.self) { try RedisURL("redis+cluster:///") }
    // The slot of a key, or of its hash tag, as the cluster specification's examples give it.
    #expect(ClusterSlot.of("123456789") == 0x31C3 % 16_384)
    #expect(ClusterSlot.of("{user1000}.following") == ClusterSlot.of("{user1000}.followers"))
    #expect(ClusterSlot.of("foo{}{bar}") != ClusterSlot.of("bar"), "an empty tag: the whole key is hashed")
    #expect(ClusterSlot.of("foo{{bar}}zap") == ClusterSlot.of("{bar"))
    #expect(ClusterSlot.of("foo{bar}{zap}") == ClusterSlot.of("bar"))
  }

  @Test func unreachableRedisIsAClearErrorWithoutSecrets() async throws {
    let client = RedisClient(url: try RedisURL("redis://:topsecret@127.0.0.1:1/0"))
    defer { client.close() }
    do {
      try await client.send("PING")
      Issue.record("PING to a closed port succeeded")
    } catch let error as RedisError {
      #expect(error.kind == .connectFailed)
      #expect(error.isTransient)
      #expect(!error.description.contains("topsecret"))
      #expect(error.description.contains("127.0.0.1:1"))
    }
  }

  @Test func concurrentCallersShareRoundTripsAndAllGetTheirReply() async throws {
    let client = try TestRedis.client()
    let key = "t:counter:\(UUID().uuidString)"
    let replies = try await withThrowingTaskGroup(of: Int64.self) { group in
      for _ in 0..<2_000 { group.addTask { try await client.send("INCR", key).int ?? -1 } }
      var all: [Int64] = []
      for try await reply in group { all.append(reply) }
      return all
    }
    // Each caller saw its own reply: together they are exactly 1...2000.
    #expect(replies.sorted() == Array(1...2_000))
    try await client.send("DEL", key)
  }

  @Test func argumentsAndRepliesAreBinarySafe() async throws {
    let client = try TestRedis.client()
    let key = "t:binary:\(UUID().uuidString)"
    let bytes: [UInt8] = [0, 1, 2, 255, 13, 10, 0, 36, 42]
    try await client.send(RedisCommand(bytes: [Array("SET".utf8), Array(key.utf8), bytes]))
    #expect(try await client.send("GET", key) == .bulk(bytes))
    #expect(try await client.send("GET", key + ":missing") == .null)
    try await client.send("DEL", key)
  }

  @Test func errorRepliesAreThrownWithTheServerMessage() async throws {
    let client = try TestRedis.client()
    await #expect(throws: RedisError.self) { try await client.send("NOSUCHCOMMAND") }
    let replies = try await client.pipeline([RedisCommand("PING"), RedisCommand("NOSUCHCOMMAND"), RedisCommand("PING")])
    #expect(replies[0] == .status("PONG"))
    if case .error(let message) = replies[1] {
      #expect(message.contains("unknown command"))
    } else {
      Issue.record("expected an error reply, got \(replies[1])")
    }
    #expect(replies[2] == .status("PONG"))
  }

  @Test func scriptsReloadAfterScriptFlush() async throws {
    let client = try TestRedis.client()
    let script = RedisScript("test.add", "return tonumber(ARGV[1]) + tonumber(ARGV[2])")
    #expect(try await client.evaluate(script, keys: [], arguments: ["2", "3"]).int == 5)
    try await client.send("SCRIPT", "FLUSH")
    #expect(try await client.evaluate(script, keys: [], arguments: ["4", "5"]).int == 9)
  }
}
