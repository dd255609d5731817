import Foundation
import Logging
import Synchronization

/// Routes commands over a Redis Cluster: each goes, pipelined with the others bound for the same
/// node, to the master that holds its key's slot. The slot map comes from `CLUSTER SLOTS`, asked
/// at the first command and again after a redirection or a broken node; each master gets a
/// connection thread of its own, opened at its first command.
///
/// Redirections are the cluster's and are followed here, so callers see a single Redis: `MOVED`
/// (the slot has a new owner: remember it, send there), `ASK` (the slot is being migrated and this
/// key is already on the target: `ASKING` and the command, once, there), `TRYAGAIN` and
/// `CLUSTERDOWN` (a migration or failover in progress: back off and send again).
final class ClusterRouter: Sendable {
  let url: RedisURL
  private let seeds: [RedisURL.ClusterNode]
  private let options: RedisClient.Options
  private let logger: Logger
  private let state = Mutex(State())

  private struct State {
    /// The master of each slot; empty until the first map is read.
    var owners: [RedisURL.ClusterNode?] = []
    var threads: [RedisURL.ClusterNode: PipelineThread] = [:]
    /// A redirection or a broken node said the map is out of date.
    var stale = true
    var refreshedAt = ContinuousClock.now - .seconds(60)
    var closed = false
  }

  /// Rounds of redirections one call follows before it gives up (a slot bouncing between nodes).
  private static let maxRedirections = 8

  init(url: RedisURL, seeds: [RedisURL.ClusterNode], options: RedisClient.Options, logger: Logger) {
    self.url = url
    self.seeds = seeds
    self.options = options
    self.logger = logger
  }

  /// Every master the map names now, for commands an operator wants from all of them.
  func masters() async throws -> [RedisURL.ClusterNode] {
    try await refreshIfStale()
    return state.withLock { Array(Set($0.owners.compactMap { $0 })) }.sorted { $0.description < $1.description }
  }

  func pipeline(_ commands: [RedisCommand]) async throws -> [RedisValue] {
    if commands.isEmpty { return [] }
    try await refreshIfStale()
    var replies = [RedisValue](repeating: .null, count: commands.count)
    // Per pending command: where it goes and whether it must be preceded by ASKING.
    var pending: [(index: Int, node: RedisURL.ClusterNode, asking: Bool)] = try commands.indices.map {
      ($0, try node(for: commands[$0]), false)
    }
    var round = 0
    while !pending.isEmpty {
      round += 1
      let results = try await send(
        pending.map { ($0.node, $0.asking ? [Self.asking, commands[$0.index]] : [commands[$0.index]]) })
      var next: [(index: Int, node: RedisURL.ClusterNode, asking: Bool)] = []
      var backOff = false
      for (item, result) in zip(pending, results) {
        let reply = result.last ?? .null
        guard case .error(let message) = reply, round <= Self.maxRedirections else {
          replies[item.index] = reply
          continue
        }
        if let (slot, target) = Self.redirection(message, prefix: "MOVED ") {
          state.withLock {
            if $0.owners.indices.contains(slot) { $0.owners[slot] = target }
            $0.stale = true
          }
          next.append((item.index, target, false))
        } else if let (_, target) = Self.redirection(message, prefix: "ASK ") {
          next.append((item.index, target, true))
        } else if message.hasPrefix("TRYAGAIN") || message.hasPrefix("CLUSTERDOWN") {
          backOff = true
          state.withLock { $0.stale = true }
          next.append((item.index, try node(for: commands[item.index]), false))
        } else {
          replies[item.index] = reply
        }
      }
      if backOff {
        try await Task.sleep(for: .milliseconds(min(25 << round, 1_000)))
        try await refreshIfStale()
        next = try next.map { item in item.asking ? item : (item.index, try node(for: commands[item.index]), false) }
      }
      pending = next
    }
    return replies
  }

  func close() {
    let threads = state.withLock { state -> [PipelineThread] in
      state.closed = true
      return Array(state.threads.values)
    }
    for thread in threads { thread.close() }
  }

  func shutdown() async {
    close()
    for thread in state.withLock({ Array($0.threads.values) }) { await thread.shutdown() }
  }

  // MARK: Routing

  private static let asking = RedisCommand("ASKING")

  private func node(for command: RedisCommand) throws -> RedisURL.ClusterNode {
    try state.withLock { state throws -> RedisURL.ClusterNode in
      if let key = command.routingKey, let owner = state.owners[ClusterSlot.of(Array(key))] {
        return owner
      }
      // Keyless commands (TIME, SCRIPT LOAD) go to any master; so does a slot no master serves,
      // which the node answers with CLUSTERDOWN and the caller retries.
      if let any = state.owners.lazy.compactMap({ $0 }).first { return any }
      throw RedisError(.connectFailed, "\(url): the cluster's slot map names no master")
    }
  }

  /// `MOVED 3999 127.0.0.1:6381` → (3999, 127.0.0.1:6381).
  private static func redirection(_ message: String, prefix: String) -> (Int, RedisURL.ClusterNode)? {
    guard message.hasPrefix(prefix) else { return nil }
    let parts = message.dropFirst(prefix.count).split(separator: " ")
    guard parts.count == 2, let slot = Int(parts[0]), (0..<ClusterSlot.count).contains(slot),
      let node = RedisURL.ClusterNode(parts[1])
    else { return nil }
    return (slot, node)
  }

  /// Sends each node its commands in one pipeline, every node at once, and returns the replies in
  /// the order of `work`. A node whose connection breaks fails the whole call (its commands may or
  /// may not have run, as on a single server) and has the map read again before the next.
  private func send(_ work: [(node: RedisURL.ClusterNode, commands: [RedisCommand])]) async throws -> [[RedisValue]] {
    var byNode: [RedisURL.ClusterNode: [Int]] = [:]
    for (index, item) in work.enumerated() { byNode[item.node, default: []].append(index) }
    var results = [[RedisValue]](repeating: [], count: work.count)
    try await withThrowingTaskGroup(of: ([Int], [RedisValue]).self) { group in
      for (node, indices) in byNode {
        let thread = try self.thread(for: node)
        let commands = indices.flatMap { work[$0].commands }
        group.addTask {
          do {
            return (indices, try await thread.pipeline(commands))
          } catch {
            self.state.withLock { $0.stale = true }
            throw error
          }
        }
      }
      for try await (indices, replies) in group {
        var offset = 0
        for index in indices {
          let count = work[index].commands.count
          results[index] = Array(replies[offset..<offset + count])
          offset += count
        }
      }
    }
    return results
  }

  private func thread(for node: RedisURL.ClusterNode) throws -> PipelineThread {
    try state.withLock { state throws -> PipelineThread in
      if state.closed { throw RedisError(.closed, "") }
      if let thread = state.threads[node] { return thread }
      let thread = PipelineThread(url: url.direct(node), options: options, logger: logger)
      state.threads[node] = thread
      return thread
    }
  }

  // MARK: Slot map

  /// Reads the map when none is known, or when it is stale and the last read is 100 ms old (a
  /// failover makes every caller see errors at once; one read serves them).
  private func refreshIfStale() async throws {
    let (due, known) = state.withLock { state -> (Bool, Bool) in
      let known = !state.owners.isEmpty
      return (!known || (state.stale && ContinuousClock.now - state.refreshedAt > .milliseconds(100)), known)
    }
    guard due else { return }
    state.withLock { $0.refreshedAt = ContinuousClock.now }
    do {
      try await refresh()
    } catch  where known {
      // Keep routing by the old map; its nodes answer with redirections or errors callers retry.
      logger.debug("cannot read the cluster's slot map yet", metadata: ["redis": "\(url)", "error": "\(error)"])
    }
  }

  /// Asks the masters the map knows, then the URL's nodes, for `CLUSTER SLOTS` until one answers.
  private func refresh() async throws {
    let candidates = state.withLock { state in Array(Set(state.owners.compactMap { $0 })) } + seeds
    var problems: [String] = []
    var tried = Set<RedisURL.ClusterNode>()
    for candidate in candidates where tried.insert(candidate).inserted {
      do {
        let reply = try await thread(for: candidate).pipeline([RedisCommand("CLUSTER", "SLOTS")])[0]
        if case .error(let message) = reply {
          problems.append("\(candidate): \(message)")
          continue
        }
        var owners = [RedisURL.ClusterNode?](repeating: nil, count: ClusterSlot.count)
        for range in reply.array ?? [] {
          guard let fields = range.array, fields.count >= 3, let first = fields[0].int, let last = fields[1].int,
            let master = fields[2].array, master.count >= 2, let port = master[1].int,
            first >= 0, last < ClusterSlot.count, first <= last
          else { continue }
          // An empty or "?" host means "the address you reached me at".
          let host = master[0].string.flatMap { $0.isEmpty || $0 == "?" ? nil : $0 } ?? candidate.host
          let owner = RedisURL.ClusterNode(host: host, port: Int(port))
          for slot in Int(first)...Int(last) { owners[slot] = owner }
        }
        guard owners.contains(where: { $0 != nil }) else {
          problems.append("\(candidate): CLUSTER SLOTS named no master")
          continue
        }
        state.withLock {
          $0.owners = owners
          $0.stale = false
          $0.refreshedAt = ContinuousClock.now
        }
        return
      } catch {
        problems.append("\(candidate): \(error)")
      }
    }
    throw RedisError(
      .connectFailed, "no node of \(url) answered CLUSTER SLOTS: " + problems.joined(separator: "; "))
  }
}
