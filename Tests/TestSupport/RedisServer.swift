import Foundation
import JobQueue
import RedisClient

/// A private redis-server for tests that stop or restart Redis, so they never disturb the shared one.
/// Append-only with fsync on every write, so a restart keeps every acknowledged change. It listens on
/// a Unix socket in its own directory and on no TCP port: no port is guessed free, and a restart
/// comes back at the same address, which nothing else can have taken in between.
public final class RedisServer: @unchecked Sendable {
  public let directory: String
  private var child: ChildProcess?

  public init() throws {
    directory = NSTemporaryDirectory() + "whago-redis-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try start()
  }

  /// A server that answers, and a broker on it (its client closes when the broker is gone).
  public static func running() async throws -> (server: RedisServer, broker: Broker) {
    let server = try RedisServer()
    try await server.waitUntilReady()
    return (server, Broker(redis: RedisClient(url: try server.url)))
  }

  public var socketPath: String { directory + "/redis.sock" }
  public var urlString: String { "unix://\(socketPath)?db=0" }
  public var url: RedisURL { get throws { try RedisURL(urlString) } }

  public func start() throws {
    let binary = ProcessInfo.processInfo.environment["REDIS_SERVER_BIN"] ?? "/usr/bin/redis-server"
    child = try ChildProcess(
      executable: binary,
      arguments: [
        "--port", "0", "--unixsocket", socketPath, "--unixsocketperm", "700", "--dir", directory, "--appendonly",
        "yes", "--appendfsync", "always", "--save", "", "--hz", "100",
      ],
      // Never under libfaketime (WHAGO_TEST_FAKETIME), which redis-server does not survive.
      environment: ["LD_PRELOAD": ""], label: "redis")
  }

  /// Waits until the server answers PING.
  public func waitUntilReady() async throws {
    let client = RedisClient(url: try url)
    defer { client.close() }
    try await eventually("redis-server at \(socketPath) to answer", within: .seconds(20)) {
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
}
