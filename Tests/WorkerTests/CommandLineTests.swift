import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing
import Wire

/// The `whago` binary as an operator uses it.
extension WorkerProcessTests {
  @Suite struct CommandLineTests {
    /// URLs with passwords come from the environment in deployments; `--help` must not print them
    /// as defaults (ArgumentParser shows a default taken from the environment).
    @Test func helpNeverShowsAPasswordFromTheEnvironment() async throws {
      for command in [["serve", "--help"], ["work", "--help"], ["migrate", "--help"]] {
        let help = try await Whago.run(
          command, redis: "redis://:redis-secret-pw@127.0.0.1:1/0",
          environment: ["WHAGO_DATABASE_URL": "postgres://whago:pg-secret-pw@127.0.0.1:1/whago"])
        #expect(help.status == 0 && help.output.contains("--database-url"), "\(help.output)")
        #expect(!help.output.contains("secret-pw"), "\(command): \(help.output)")
      }
    }

    @Test func enqueueShowAndQueuesAsJSON() async throws {
      let redisURL = try TestRedis.url.description
      let queue = TestRedis.queue()
      let enqueued = try await Whago.run(
        ["enqueue", "diag.sleep", "--payload", #"{"ms":5}"#, "--queue", queue, "--delay", "10m", "--json"],
        redis: redisURL)
      #expect(enqueued.status == 0, "\(enqueued.output)")
      let reply = try JSONSerialization.jsonObject(with: Data(enqueued.output.utf8)) as? [String: String]
      let id = try #require(reply?["id"])
      #expect(reply?["state"] == "scheduled")

      let shown = try await Whago.run(["job", "show", id], redis: redisURL)
      #expect(shown.status == 0)
      #expect(shown.output.contains("state     scheduled"))
      #expect(shown.output.contains(#"payload   {"ms":5}"#))

      let queues = try await Whago.run(["queues", "--json"], redis: redisURL)
      let all = try WireJSON.decoder.decode([QueueStats].self, from: Data(queues.output.utf8))
      let mine = try #require(all.first { $0.queue == queue })
      #expect(mine.scheduled == 1 && mine.ready == 0 && mine.enqueued == 1)

      let cancelled = try await Whago.run(["job", "cancel", id], redis: redisURL)
      #expect(cancelled.status == 0)
      #expect(try await TestRedis.broker().job(id: id).state == .cancelled)
    }

    @Test func badInputGetsAClearErrorAndChangesNothing() async throws {
      let redisURL = try TestRedis.url.description
      let queue = TestRedis.queue()
      let broker = try TestRedis.broker()
      let cases: [([String], String)] = [
        (["enqueue", "no.such.type", "--queue", queue], "unknown job type 'no.such.type'"),
        (["enqueue", "diag.sleep", "--payload", "{not json", "--queue", queue], "--payload must be a JSON object"),
        (["enqueue", "diag.sleep", "--payload", #"{"ms":"soon"}"#, "--queue", queue], "payload does not decode"),
        (["enqueue", "diag.sleep", "--payload", #"{}"#, "--queue", queue], "missing field 'ms'"),
        (["enqueue", "diag.noop", "--queue", "bad{queue}"], "invalid queue name"),
        (["enqueue", "diag.noop", "--delay", "soon", "--queue", queue], "--delay"),
        (["job", "show", "NoSuchJob00000"], "no job NoSuchJob00000"),
      ]
      for (arguments, message) in cases {
        let result = try await Whago.run(arguments, redis: redisURL)
        #expect(result.status != 0, "\(arguments) succeeded")
        #expect(result.output.contains(message), "\(arguments): \(result.output)")
      }
      #expect(try await broker.stats(queues: [queue])[0].enqueued == 0)
    }

    @Test func unreachableRedisIsReportedWithoutThePassword() async throws {
      let result = try await Whago.run(["queues"], redis: "redis://:hunter2@127.0.0.1:1/0")
      #expect(result.status != 0)
      #expect(result.output.contains("cannot connect to Redis"))
      #expect(!result.output.contains("hunter2"))
    }
  }
}
