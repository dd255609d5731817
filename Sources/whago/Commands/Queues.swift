import ArgumentParser
import Foundation
import JobQueue
import RedisClient

struct Queues: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Each queue's ready, scheduled, active and dead counts and its processed and failed totals.")

  @OptionGroup var global: GlobalOptions
  @Flag(help: "Print JSON.") var json = false

  func run() async throws {
    let redis = try global.client()
    defer { redis.close() }
    let stats = try await Broker(redis: redis).stats()
    if json {
      print(try JSONOutput.encode(stats))
      return
    }
    if stats.isEmpty {
      print("no queues yet: enqueue a job first (whago enqueue diag.noop)")
      return
    }
    let header = ["QUEUE", "READY", "SCHEDULED", "ACTIVE", "DEAD", "PROCESSED", "FAILED", "PAUSED"]
    let rows = stats.map {
      [
        $0.queue, "\($0.ready)", "\($0.scheduled)", "\($0.active)", "\($0.dead)", "\($0.processed)", "\($0.failed)",
        $0.paused ? "yes" : "no",
      ]
    }
    print(Table.render(header: header, rows: rows))
  }
}

struct QueueCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "queue", abstract: "Pause or resume a queue.", subcommands: [Pause.self, Resume.self])

  struct Pause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop workers taking jobs from a queue.")
    @OptionGroup var global: GlobalOptions
    @Argument var queue: String
    func run() async throws {
      let redis = try global.client()
      defer { redis.close() }
      try await Broker(redis: redis).pause(queue: queue)
      print("paused \(queue): running jobs finish, new ones wait")
    }
  }

  struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Let workers take jobs from a queue again.")
    @OptionGroup var global: GlobalOptions
    @Argument var queue: String
    func run() async throws {
      let redis = try global.client()
      defer { redis.close() }
      try await Broker(redis: redis).resume(queue: queue)
      print("resumed \(queue)")
    }
  }
}

enum Table {
  static func render(header: [String], rows: [[String]]) -> String {
    var widths = header.map(\.count)
    for row in rows {
      for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
    }
    func line(_ cells: [String]) -> String {
      cells.enumerated().map { i, cell in
        i == 0
          ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
          : String(repeating: " ", count: widths[i] - cell.count) + cell
      }.joined(separator: "  ")
    }
    return ([line(header)] + rows.map(line)).joined(separator: "\n")
  }
}
