import ArgumentParser
import Foundation
import JobQueue
import RedisClient

struct Dead: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Inspect, retry, delete, export or import dead-lettered jobs.",
    discussion: """
      Filters (list, retry --all, delete --all, export): --queue, --type, --tenant, --error TEXT
      (in the last error, any case), --since 1h (died within).
      Examples:
        whago dead list --type campaign.send --error timeout --since 1h
        whago dead retry --all --type campaign.send --spread 10ms
        whago dead export --queue billing > dead.jsonl && whago dead import < dead.jsonl
      """,
    subcommands: [List.self, Show.self, Retry.self, Delete.self, Export.self, Import.self])

  /// Which dead letters a command means.
  struct Filters: ParsableArguments {
    @Option(help: "Only this queue (default: every queue).") var queue: String?
    @Option(help: "Only this job type.") var type: String?
    @Option(help: "Only this tenant's jobs.") var tenant: String?
    @Option(help: "Only jobs whose last error contains this text (any case).") var error: String?
    @Option(help: "Only jobs that died within this long (e.g. 30m, 1h, 2d).") var since: DurationArgument?

    var isEmpty: Bool { queue == nil && type == nil && tenant == nil && error == nil && since == nil }

    func filter(_ broker: Broker) async throws -> JobFilter {
      var since: Int64?
      if let window = self.since { since = try await broker.redisTime() - window.duration.milliseconds }
      return JobFilter(type: type, tenant: tenant, errorContains: error, since: since)
    }

    func queues(_ broker: Broker) async throws -> [String] {
      if let queue { return [queue] }
      return try await broker.queueNames()
    }

    /// Matching dead letters of every selected queue, newest first within each queue.
    func letters(_ broker: Broker, limit: Int = .max) async throws -> [DeadLetter] {
      let filter = try await filter(broker)
      var letters: [DeadLetter] = []
      for name in try await queues(broker) where letters.count < limit {
        letters += try await broker.deadLetters(queue: name, filter: filter, limit: limit - letters.count)
      }
      return letters
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Dead jobs, newest first, with their last error.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var filters: Filters
    @Option(help: "Most jobs listed.") var limit = 50
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
      let redis = try global.client()
      defer { redis.close() }
      let letters = try await filters.letters(Broker(redis: redis), limit: max(1, limit))
      if json {
        print(try JSONOutput.encode(letters))
        return
      }
      if letters.isEmpty {
        print(filters.isEmpty ? "no dead jobs" : "no dead jobs match")
        return
      }
      let rows = letters.map {
        [
          $0.id, $0.queue, $0.type, $0.tenant ?? "-", Timestamp.text($0.diedAt), "\($0.attempts)", "\($0.crashes)",
          String(($0.lastError ?? "").prefix(60)),
        ]
      }
      print(
        Table.render(
          header: ["ID", "QUEUE", "TYPE", "TENANT", "DIED", "ATTEMPTS", "CRASHES", "LAST ERROR"], rows: rows))
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "One dead job: payload and every attempt's error.")
    @OptionGroup var global: GlobalOptions
    @Argument var id: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
      let redis = try global.client()
      defer { redis.close() }
      let info = try await Broker(redis: redis).job(id: id)
      guard info.state == .dead else {
        throw ValidationError("job \(id) is \(info.state.rawValue), not dead; see `whago job show \(id)`")
      }
      if json {
        print(try JSONOutput.encode(info))
        return
      }
      print("job \(info.id)  \(info.type) on \(info.queue)\(info.tenant.map { "  tenant \($0)" } ?? "")")
      print(
        "dead after \(info.attempts) attempt(s), \(info.crashes) crash(es); died \(info.finishedAt.map(Timestamp.text) ?? "-")"
      )
      print("payload: \(info.payload)")
      if info.history.isEmpty { print("no attempts recorded") }
      for attempt in info.history {
        print("  #\(attempt.attempt) \(attempt.kind) at \(Timestamp.text(attempt.at)): \(attempt.error)")
      }
    }
  }

  /// Ids to act on: the named ones grouped by queue, or every dead job matching the filters with --all.
  struct Selection: ParsableArguments {
    @Argument(help: "Dead job ids.") var ids: [String] = []
    @Flag(help: "Every dead job matching the filters (every dead job of every queue without filters).") var all = false
    @OptionGroup var filters: Filters

    func validate() throws {
      if all && !ids.isEmpty { throw ValidationError("name ids or use --all, not both") }
      if !all && ids.isEmpty { throw ValidationError("name at least one dead job id, or use --all [filters]") }
      if !all && !filters.isEmpty { throw ValidationError("filters select with --all; with ids, name only the ids") }
    }

    func resolve(_ broker: Broker) async throws -> [String: [String]] {
      if all {
        var byQueue: [String: [String]] = [:]
        if filters.isEmpty {
          for queue in try await filters.queues(broker) { byQueue[queue] = try await broker.deadIDs(queue: queue) }
        } else {
          for letter in try await filters.letters(broker) { byQueue[letter.queue, default: []].append(letter.id) }
        }
        return byQueue.filter { !$0.value.isEmpty }
      }
      var byQueue: [String: [String]] = [:]
      for id in ids {
        guard let queue = try await broker.locate(id: id) else { throw QueueError.jobNotFound(id) }
        byQueue[queue, default: []].append(id)
      }
      return byQueue
    }
  }

  struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write matching dead jobs as JSON lines to standard output (payload, history and all).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var filters: Filters

    func run() async throws {
      let redis = try global.client()
      defer { redis.close() }
      let broker = Broker(redis: redis)
      var byQueue: [String: [String]] = [:]
      for letter in try await filters.letters(broker) { byQueue[letter.queue, default: []].append(letter.id) }
      let total = byQueue.values.map(\.count).reduce(0, +)
      let progress = total >= 1_000 ? Progress(total: total, label: "exported") : nil
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      var done = 0
      for (queue, ids) in byQueue.sorted(by: { $0.key < $1.key }) {
        for start in stride(from: 0, to: ids.count, by: 1_000) {
          let records = try await broker.deadRecords(
            queue: queue, ids: Array(ids[start..<min(start + 1_000, ids.count)]))
          var out = Data()
          for record in records {
            out += try encoder.encode(record)
            out.append(10)
          }
          FileHandle.standardOutput.write(out)
          done += records.count
          progress?.update(done)
        }
      }
      progress?.finish()
      FileHandle.standardError.write(Data("exported \(done) dead job(s)\n".utf8))
    }
  }

  struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Read dead jobs (JSON lines from `whago dead export`) from standard input or a file into the dead set.",
      discussion: "Jobs whose id already exists are skipped, so an interrupted import can be run again.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "A .jsonl file (default: standard input).") var file: String?
    @Option(help: "Put every job in this queue instead of its own.") var queue: String?

    func run() async throws {
      let data: Data
      if let file {
        guard let read = FileManager.default.contents(atPath: file) else {
          throw ValidationError("cannot read \(file)")
        }
        data = read
      } else {
        data = FileHandle.standardInput.readDataToEndOfFile()
      }
      let decoder = JSONDecoder()
      var records: [DeadRecord] = []
      for (number, line) in data.split(separator: 10).enumerated() where !line.allSatisfy({ $0 == 32 || $0 == 13 }) {
        do {
          records.append(try decoder.decode(DeadRecord.self, from: Data(line)))
        } catch {
          throw ValidationError("line \(number + 1) is not a dead job record from `whago dead export`: \(error)")
        }
      }
      let redis = try global.client()
      defer { redis.close() }
      let broker = Broker(redis: redis)
      let progress = records.count >= 1_000 ? Progress(total: records.count, label: "imported") : nil
      var imported = 0
      var skipped = 0
      for start in stride(from: 0, to: records.count, by: 500) {
        let (i, s) = try await broker.importDead(Array(records[start..<min(start + 500, records.count)]), into: queue)
        imported += i
        skipped += s
        progress?.update(start + i + s)
      }
      progress?.finish()
      print("imported \(imported) dead job(s)\(skipped > 0 ? ", skipped \(skipped) already present" : "")")
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
