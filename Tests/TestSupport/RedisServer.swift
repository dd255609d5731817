import Foundation
import RedisClient

/// A private redis-server for tests that stop or restart Redis, so they never disturb the shared one.
/// Append-only with fsync on every write, so a restart keeps every acknowledged change.
public final class RedisServer: @unchecked Sendable {
  public let port: Int
  public let directory: String
  private var child: ChildProcess?

  public init() throws {
    directory = NSTemporaryDirectory() + "whago-redis-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    port = try Self.freePort()
    try start()
  }

  public var urlString: String { "redis://127.0.0.1:\(port)/0" }
  public var url: RedisURL { get throws { try RedisURL(urlString) } }

  public func start() throws {
    let binary = ProcessInfo.processInfo.environment["REDIS_SERVER_BIN"] ?? "/usr/bin/redis-server"
    child = try ChildProcess(
      executable: binary,
      arguments: [
        "--port", String(port), "--bind", "127.0.0.1", "--dir", directory, "--appendonly", "yes",
        "--appendfsync", "always", "--save", "", "--hz", "100",
      ], label: "redis")
  }

  /// Waits until the server answers PING.
  public func waitUntilReady() async throws {
    let client = RedisClient(url: try url)
    defer { client.close() }
    try await eventually("redis-server on port \(port) to answer", within: .seconds(20)) {
      (try? await client.send("PING")) != nil
    }
  }

  /// Stops the server as an operator would (SHUTDOWN: it flushes the append-only file) and waits
  /// for the process to exit.
  public func stop() async throws {
    guard let child else { return }
    let client = RedisClient(url: try url)
    defer { client.close() }
    _ = try? await client.send("SHUTDOWN")
    try await child.waitForExit(within: .seconds(20))
    self.child = nil
  }

  public func restart() async throws {
    try await stop()
    try start()
    try await waitUntilReady()
  }

  deinit {
    child?.signal(SIGKILL)
    try? FileManager.default.removeItem(atPath: directory)
  }

  public static func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSetupError("socket() failed") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard bound else { throw TestSetupError("cannot find a free port") }
    return Int(UInt16(bigEndian: addr.sin_port))
  }
}
