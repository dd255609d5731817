import CHiredis
import Foundation

/// One blocking hiredis connection. Not thread-safe: it is owned by exactly one `RedisClient` thread,
/// and every call blocks that thread, never a cooperative-pool thread.
final class RedisConnection {
  private let context: UnsafeMutablePointer<redisContext>

  private init(context: UnsafeMutablePointer<redisContext>) {
    self.context = context
  }

  deinit {
    redisFree(context)
  }

  /// Connects, authenticates and selects the database. Frees whatever hiredis allocated on failure.
  static func connect(to url: RedisURL, connectTimeout: Duration, commandTimeout: Duration?) throws(RedisError)
    -> RedisConnection
  {
    let tv = makeTimeval(connectTimeout)
    let raw: UnsafeMutablePointer<redisContext>?
    switch url.endpoint {
    case .tcp(let host, let port): raw = redisConnectWithTimeout(host, Int32(port), tv)
    case .unix(let path): raw = redisConnectUnixWithTimeout(path, tv)
    case .sentinel(let nodes, let master):
      return try connectToMaster(master, through: nodes, url: url, timeouts: (connectTimeout, commandTimeout))
    case .cluster:
      // The router opens one connection per master, each with a plain host:port endpoint.
      throw RedisError(.invalidURL, "\(url): a cluster URL names no single server to connect to")
    }
    guard let raw else { throw RedisError(.connectFailed, "out of memory") }
    let connection = RedisConnection(context: raw)
    if raw.pointee.err != 0 {
      throw RedisError(.connectFailed, "\(url): \(connection.errorString)")
    }
    if let commandTimeout {
      redisSetTimeout(raw, makeTimeval(commandTimeout))
    }
    var setup: [RedisCommand] = []
    if let password = url.password {
      setup.append(url.username.map { RedisCommand("AUTH", $0, password) } ?? RedisCommand("AUTH", password))
    }
    if url.database != 0 { setup.append(RedisCommand("SELECT", String(url.database))) }
    if !setup.isEmpty {
      for reply in try connection.pipeline(setup) {
        if case .error(let message) = reply {
          // Never echo the AUTH arguments; the server's message names no secret.
          throw RedisError(.connectFailed, "\(url): \(message)")
        }
      }
    }
    return connection
  }

  /// Asks each sentinel in turn for `master`'s address, connects there, and keeps the connection
  /// only if the server says it is the master (`ROLE`): a sentinel that has not yet seen a failover
  /// may still name the old master, which may be back as a replica.
  private static func connectToMaster(
    _ master: String, through sentinels: [RedisURL.SentinelNode], url: RedisURL,
    timeouts: (connect: Duration, command: Duration?)
  ) throws(RedisError) -> RedisConnection {
    var problems: [String] = []
    for node in sentinels {
      let name = "sentinel \(node.host):\(node.port)"
      do {
        let sentinel = try connect(
          to: RedisURL(endpoint: .tcp(host: node.host, port: node.port)), connectTimeout: timeouts.connect,
          commandTimeout: timeouts.connect)
        let reply = try sentinel.pipeline([RedisCommand("SENTINEL", "get-master-addr-by-name", master)])[0]
        guard let address = reply.array, address.count == 2, let host = address[0].string,
          let port = address[1].string.flatMap({ Int($0) })
        else {
          problems.append("\(name) knows no master named \(master)")
          continue
        }
        let connection = try connect(
          to: url.direct(RedisURL.SentinelNode(host: host, port: port)), connectTimeout: timeouts.connect,
          commandTimeout: timeouts.command)
        let role = try connection.pipeline([RedisCommand("ROLE")])[0]
        guard role.array?.first?.string == "master" else {
          problems.append("\(name) named \(host):\(port), which is not a master (yet)")
          continue
        }
        return connection
      } catch {
        problems.append("\(name): \(error.message)")
      }
    }
    throw RedisError(
      .connectFailed, "no sentinel named a reachable master \(master): " + problems.joined(separator: "; "))
  }

  /// Sends every command in one write and reads the replies in order. Error replies come back as
  /// `.error` values; a broken socket throws and leaves the connection unusable.
  func pipeline(_ commands: [RedisCommand]) throws(RedisError) -> [RedisValue] {
    for command in commands {
      try append(command)
    }
    var replies: [RedisValue] = []
    replies.reserveCapacity(commands.count)
    for _ in commands {
      var raw: UnsafeMutableRawPointer?
      if redisGetReply(context, &raw) != REDIS_OK {
        throw ioError()
      }
      guard let raw else { throw ioError() }
      let reply = raw.assumingMemoryBound(to: redisReply.self)
      replies.append(Self.decode(reply))
      freeReplyObject(raw)
    }
    return replies
  }

  private func append(_ command: RedisCommand) throws(RedisError) {
    let args = command.arguments
    var lengths = args.map { $0.count }
    var flat: [UInt8] = []
    flat.reserveCapacity(lengths.reduce(0, +) + 1)
    for arg in args { flat.append(contentsOf: arg) }
    flat.append(0)  // keeps the base pointer valid even when every argument is empty
    let status = flat.withUnsafeBufferPointer { buffer -> Int32 in
      let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
      var pointers: [UnsafePointer<CChar>?] = []
      pointers.reserveCapacity(args.count)
      var offset = 0
      for length in lengths {
        pointers.append(base + offset)
        offset += length
      }
      return pointers.withUnsafeMutableBufferPointer { argv in
        lengths.withUnsafeMutableBufferPointer { argvlen in
          redisAppendCommandArgv(context, Int32(args.count), argv.baseAddress, argvlen.baseAddress)
        }
      }
    }
    if status != REDIS_OK { throw ioError() }
  }

  private var errorString: String {
    withUnsafeBytes(of: context.pointee.errstr) { raw in
      String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
  }

  private func ioError() -> RedisError {
    let message = errorString
    if context.pointee.err == REDIS_ERR_IO
      && (errno == EAGAIN || errno == EWOULDBLOCK || message.contains("temporarily"))
    {
      return RedisError(.timeout, message)
    }
    return RedisError(.connectionLost, message.isEmpty ? "connection closed" : message)
  }

  private static func decode(_ reply: UnsafeMutablePointer<redisReply>) -> RedisValue {
    let r = reply.pointee
    switch r.type {
    case REDIS_REPLY_STRING:
      return .bulk(bytes(r.str, r.len))
    case REDIS_REPLY_STATUS:
      return .status(String(decoding: bytes(r.str, r.len), as: UTF8.self))
    case REDIS_REPLY_ERROR:
      return .error(String(decoding: bytes(r.str, r.len), as: UTF8.self))
    case REDIS_REPLY_INTEGER:
      return .integer(r.integer)
    case REDIS_REPLY_ARRAY:
      var items: [RedisValue] = []
      items.reserveCapacity(r.elements)
      for i in 0..<r.elements {
        if let element = r.element[i] { items.append(decode(element)) } else { items.append(.null) }
      }
      return .array(items)
    default:
      return .null
    }
  }

  private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
    guard let pointer, length > 0 else { return [] }
    return Array(UnsafeRawBufferPointer(start: pointer, count: length))
  }
}

@available(*, unavailable)
extension RedisConnection: Sendable {}

private func makeTimeval(_ duration: Duration) -> timeval {
  let (seconds, attoseconds) = duration.components
  return timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
}
