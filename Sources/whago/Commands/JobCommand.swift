import ArgumentParser
import Foundation
import JobQueue
import RedisClient

struct JobCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "job", abstract: "Inspect or cancel one job.", subcommands: [Show.self, Cancel.self])

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A job's state and every failed or crashed attempt.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.") var id: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
      let redis = try global.client()
      defer { redis.close() }
      let info = try await Broker(redis: redis).job(id: id)
      if json {
        print(try JSONOutput.encode(info))
        return
      }
      print("job       \(info.id)")
      print("type      \(info.type)")
      print("queue     \(info.queue)")
      print("state     \(info.state.rawValue)")
      print("attempts  \(info.attempts) of \(info.maxAttempts) (crashes: \(info.crashes))")
      if let key = info.idempotencyKey { print("key       \(key)") }
      for (label, value) in [
        ("enqueued", info.enqueuedAt), ("due", info.dueAt), ("started", info.startedAt), ("finished", info.finishedAt),
      ] {
        if let value { print(label.padding(toLength: 10, withPad: " ", startingAt: 0) + Timestamp.text(value)) }
      }
      print("payload   \(info.payload)")
      if info.history.isEmpty {
        print("history   (no failed attempts)")
      } else {
        print("history")
        for record in info.history {
          print("  #\(record.attempt) \(record.kind) at \(Timestamp.text(record.at)): \(record.error)")
        }
      }
    }
  }

  struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cancel a job that has not started.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.") var id: String

    func run() async throws {
      let redis = try global.client()
      defer { redis.close() }
      try await Broker(redis: redis).cancel(id: id)
      print("cancelled \(id)")
    }
  }
}

enum Timestamp {
  static func text(_ epochMilliseconds: Int64) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: Date(timeIntervalSince1970: Double(epochMilliseconds) / 1000))
  }
}
