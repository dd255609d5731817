import ArgumentParser
import Foundation
import JobQueue
import RedisClient

struct Dead: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Inspect, retry or delete dead-lettered jobs.",
    discussion: "`whago job show ID` shows one dead job with every attempt's error.",
    subcommands: [List.self, Retry.self, Delete.self])

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Dead jobs, newest first, with their last error.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this queue (default: every queue).") var queue: String?
    @Option(help: "Most jobs per queue.") var limit = 50
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
      let redis = try global.client()
      defer { redis.close() }
      let broker = Broker(redis: redis)
      var letters: [DeadLetter] = []
      let names: [String]
      if let queue { names = [queue] } else { names = try await broker.queueNames() }
      for name in names {
        letters += try await broker.deadLetters(queue: name, limit: limit)
      }
      if json {
        print(try JSONOutput.encode(letters))
        return
      }
      if letters.isEmpty {
        print("no dead jobs")
        return
      }
      let rows = letters.map {
        [
          $0.id, $0.queue, $0.type, Timestamp.text($0.diedAt), "\($0.attempts)", "\($0.crashes)",
          String(($0.lastError ?? "").prefix(60)),
        ]
      }
      print(Table.render(header: ["ID", "QUEUE", "TYPE", "DIED", "ATTEMPTS", "CRASHES", "LAST ERROR"], rows: rows))
    }
  }

  /// Ids to act on: the named ones grouped by queue, or every dead job of `queue` with --all.
  struct Selection: ParsableArguments {
    @Argument(help: "Dead job ids.") var ids: [String] = []
    @Flag(help: "Every dead job of --queue.") var all = false
    @Option(help: "The queue, with --all.") var queue: String?

    func validate() throws {
      if all && !ids.isEmpty { throw ValidationError("name ids or use --all, not both") }
      if all && queue == nil { throw ValidationError("--all needs --queue") }
      if !all && ids.isEmpty { throw ValidationError("name at least one dead job id, or use --all --queue Q") }
    }

    func resolve(_ broker: Broker) async throws -> [String: [String]] {
      if all, let queue { return [queue: try await broker.deadIDs(queue: queue)] }
      var byQueue: [String: [String]] = [:]
      for id in ids {
        guard let queue = try await broker.locate(id: id) else { throw QueueError.jobNotFound(id) }
        byQueue[queue, default: []].append(id)
      }
      return byQueue
    }
  }

  /// Runs `action` over the ids in chunks, with a progress bar for thousands.
  static func inChunks(
    _ byQueue: [String: [String]], label: String, _ action: (String, [String]) async throws -> Int
  ) async throws -> Int {
    let total = byQueue.values.map(\.count).reduce(0, +)
    let progress = total >= 1_000 ? Progress(total: total, label: label) : nil
    var done = 0
    var changed = 0
    for (queue, ids) in byQueue.sorted(by: { $0.key < $1.key }) {
      for start in stride(from: 0, to: ids.count, by: 1_000) {
        let chunk = Array(ids[start..<min(start + 1_000, ids.count)])
        changed += try await action(queue, chunk)
        done += chunk.count
        progress?.update(done)
      }
    }
    progress?.finish()
    return changed
  }

  struct Retry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run dead jobs again with a fresh attempt budget. Safe to interrupt and run again.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var selection: Selection
    @Option(help: "Wait this long before the first retried job runs.") var delay: DurationArgument?
    @Option(help: "Space retried jobs by this much each (e.g. 10ms), not to flood a failing dependency.")
    var spread: DurationArgument?

    func run() async throws {
      let redis = try global.client()
      defer { redis.close() }
      let broker = Broker(redis: redis)
      let byQueue = try await selection.resolve(broker)
      var offset = Duration.zero
      let retried = try await Dead.inChunks(byQueue, label: "retried") { queue, ids in
        let n = try await broker.retryDead(
          queue: queue, ids: ids, delay: (delay?.duration ?? .zero) + offset, spread: spread?.duration ?? .zero)
        offset += (spread?.duration ?? .zero) * n
        return n
      }
      print("retried \(retried) dead job(s)")
    }
  }

  struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete dead jobs and their history for good.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var selection: Selection
    @Flag(help: "Do not ask for confirmation.") var yes = false

    func run() async throws {
      let redis = try global.client()
      defer { redis.close() }
      let broker = Broker(redis: redis)
      let byQueue = try await selection.resolve(broker)
      let total = byQueue.values.map(\.count).reduce(0, +)
      if !yes {
        guard isatty(STDIN_FILENO) == 1 else {
          throw ValidationError("deleting \(total) dead job(s) needs confirmation: run on a terminal or add --yes")
        }
        print("delete \(total) dead job(s) for good? [y/N] ", terminator: "")
        guard let answer = readLine(), answer.lowercased().hasPrefix("y") else {
          print("nothing deleted")
          throw ExitCode(1)
        }
      }
      let deleted = try await Dead.inChunks(byQueue, label: "deleted") { queue, ids in
        try await broker.deleteDead(queue: queue, ids: ids)
      }
      print("deleted \(deleted) dead job(s)")
    }
  }
}
