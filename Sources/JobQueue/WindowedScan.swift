import RedisClient

/// One match of a windowed scan: seven values, as the dead and waiting scan scripts return them
/// (id, score, type, tenant, two counts, last error), read by position.
struct ScanMatch {
  let values: [RedisValue]
  let start: Int

  func text(_ position: Int) -> String { values.string(start + position) ?? "" }
  func number(_ position: Int) -> Int { Int(text(position)) ?? 0 }
  /// Nil for an empty value (no tenant, no error).
  func optional(_ position: Int) -> String? { text(position).isEmpty ? nil : text(position) }
  /// A sorted-set score (which Redis may write as a float) as ms.
  func time(_ position: Int) -> Int64 { Double(text(position)).map { Int64($0) } ?? 0 }
}

extension Broker {
  /// Runs a scan script over a sorted set `window` members per call until `limit` matches are
  /// found or the set ends, so a scan of a million members never blocks Redis for long. The
  /// script takes the offset and window as ARGV[1] and ARGV[2] before `arguments`, and returns
  /// {next offset or -1 at the end, then 7 values per match}. `progress` hears how many members
  /// were looked at so far.
  func scanInWindows<T>(
    _ script: RedisScript, keys: [String], arguments: [String], limit: Int, window: Int,
    progress: (@Sendable (Int) -> Void)? = nil, _ match: (ScanMatch) -> T
  ) async throws -> [T] {
    var found: [T] = []
    var offset = 0
    while found.count < limit {
      let reply = try await redis.evaluate(
        script, keys: keys, arguments: [String(offset), String(window)] + arguments)
      let items = reply.array ?? []
      guard let next = items.first?.int else {
        throw QueueError.unexpectedReply(operation: script.name, detail: "\(reply)")
      }
      for start in stride(from: 1, to: items.count - 6, by: 7) {
        found.append(match(ScanMatch(values: items, start: start)))
      }
      progress?(next < 0 ? offset + window : Int(next))
      if next < 0 { break }
      offset = Int(next)
    }
    return Array(found.prefix(limit))
  }
}
