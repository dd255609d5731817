import ArgumentParser
import Foundation
import JobQueue
import RedisClient

struct Queues: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Each queue's depths, totals, rates over the last minute and the oldest ready job's wait.")

  @OptionGroup var global: GlobalOptions
  @Flag(help: "Print JSON.") var json = false
  @Option(help: "Refresh every this long (e.g. 2s) until Ctrl-C.") var watch: DurationArgument?

  func validate() throws {
    if let watch, watch.duration < .milliseconds(200) { throw ValidationError("--watch must be at least 200ms") }
  }

  func run() async throws {
    let redis = try global.client()
    defer { redis.close() }
    let broker = Broker(redis: redis)
    let interactive = isatty(STDOUT_FILENO) == 1
    while true {
      let stats = try await broker.stats()
      if json {
        print(try JSONOutput.encode(stats))
      } else {
        // On a terminal, redraw in place; piped, append one table per refresh.
        if watch != nil && interactive { print("\u{1B}[H\u{1B}[2J", terminator: "") }
        print(Self.render(stats, color: interactive))
      }
      guard let watch else { return }
      if interactive { print("\nrefreshing every \(watch.duration); Ctrl-C stops") }
      try await Task.sleep(for: watch.duration)
    }
  }

  static func render(_ stats: [QueueStats], color: Bool) -> String {
    if stats.isEmpty { return "no queues yet: enqueue a job first (whago enqueue diag.noop)" }
    let header = [
      "QUEUE", "READY", "SCHEDULED", "ACTIVE", "DEAD", "PROCESSED", "FAILED", "DONE/MIN", "FAILED/MIN", "OLDEST",
      "PAUSED",
    ]
    let rows = stats.map {
      [
        $0.queue, "\($0.ready)", "\($0.scheduled)", "\($0.active)", "\($0.dead)", "\($0.processed)", "\($0.failed)",
        "\($0.processedLastMinute)", "\($0.failedLastMinute)", $0.oldestReadyAgeMs.map(Self.age) ?? "-",
        $0.paused ? "yes" : "no",
      ]
    }
    var table = Table.render(header: header, rows: rows)
    // Colour only for people: dead jobs and paused queues in red on a terminal.
    if color {
      table = table.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map { index, line in
        guard index > 0, stats[index - 1].dead > 0 || stats[index - 1].paused else { return String(line) }
        return "\u{1B}[31m\(line)\u{1B}[0m"
      }.joined(separator: "\n")
    }
    return table
  }

  static func age(_ ms: Int64) -> String {
    if ms < 1_000 { return "\(ms)ms" }
    if ms < 120_000 { return String(format: "%.1fs", Double(ms) / 1000) }
    if ms < 7_200_000 { return "\(ms / 60_000)m" }
    return "\(ms / 3_600_000)h"
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
