import ArgumentParser
import Foundation
import JobQueue
import RedisClient

/// `whago workers`: the live worker processes, as their heartbeats in Redis describe them.
struct Workers: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Live worker processes: host, pid, queues, concurrency and what they run now.")
  @OptionGroup var global: GlobalOptions
  @Flag(help: "Print JSON.") var json = false

  func run() async throws {
    let redis = try global.client()
    defer { redis.close() }
    let workers = try await Broker(redis: redis).workers()
    if json {
      print(try JSONOutput.encode(workers))
      return
    }
    if workers.isEmpty {
      print("no live workers (start one with `whago work`)")
      return
    }
    print(
      Table.render(
        header: ["WORKER", "HOST", "PID", "QUEUES", "CONCURRENCY", "RUNNING", "STARTED", "LAST SEEN"],
        rows: workers.map {
          [
            $0.name, $0.host, "\($0.pid)", $0.queues.joined(separator: ","), "\($0.concurrency)", "\($0.running)",
            Timestamp.text($0.startedAt), Timestamp.text($0.lastSeenAt),
          ]
        }))
  }
}
