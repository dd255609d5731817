import Foundation
import RedisClient

#if canImport(Glibc)
  import Glibc
#endif

/// A Redis master, one replica and three sentinels watching them, on loopback ports of their own,
/// for tests of failover. Sentinels notice a dead master after 1 s and fail over by majority.
public final class SentinelGroup: @unchecked Sendable {
  public static let masterName = "whago-test"

  public let directory: String
  public private(set) var master: ChildProcess
  public let replica: ChildProcess
  public let sentinels: [ChildProcess]
  public let masterPort: Int
  public let replicaPort: Int
  public let sentinelPorts: [Int]

  /// What whago is given: every sentinel and the master's name.
  public var url: String {
    "redis+sentinel://" + sentinelPorts.map { "127.0.0.1:\($0)" }.joined(separator: ",") + "/\(Self.masterName)"
  }

  private static var binary: String {
    ProcessInfo.processInfo.environment["REDIS_SERVER_BIN"] ?? "/usr/bin/redis-server"
  }

  /// A port the kernel says is free now. Another process may take it before the server binds it:
  /// `start` then sees the server exit and tries again.
  static func freePort() throws -> Int {
    let (fd, port) = try ClosedPort.bound()
    close(fd)
    return port
  }

  /// Starts a redis-server with `arguments` on a free port, retrying if the port was taken meanwhile,
  /// and waits until it answers PING.
  static func server(_ arguments: (Int) throws -> [String], label: String) async throws -> (ChildProcess, Int) {
    for _ in 0..<5 {
      let port = try freePort()
      let child = try ChildProcess(
        executable: binary, arguments: try arguments(port), environment: ["LD_PRELOAD": ""], label: label)
      let client = RedisClient(url: RedisURL(endpoint: .tcp(host: "127.0.0.1", port: port)))
      defer { client.close() }
      do {
        try await eventually("\(label) on port \(port) to answer", within: .seconds(20), every: .milliseconds(50)) {
          if !child.isRunning { throw TestSetupError("\(label) exited: \(child.output.suffix(500))") }
          return (try? await client.send("PING")) != nil
        }
        return (child, port)
      } catch {
        child.signal(SIGKILL)
      }
    }
    throw TestSetupError("\(label) did not start on any of 5 free ports")
  }

  public static func start() async throws -> SentinelGroup {
    let directory = NSTemporaryDirectory() + "whago-sentinel-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--hz", "100"]
    let (master, masterPort) = try await server(
      { ["--port", "\($0)", "--dir", directory] + common }, label: "redis-master")
    let (replica, replicaPort) = try await server(
      { ["--port", "\($0)", "--dir", directory, "--replicaof", "127.0.0.1", "\(masterPort)"] + common },
      label: "redis-replica")
    var sentinels: [ChildProcess] = []
    var ports: [Int] = []
    for n in 0..<3 {
      let (sentinel, port) = try await server(
        { port in
          let config = directory + "/sentinel-\(n).conf"
          try """
          port \(port)
          bind 127.0.0.1
          dir \(directory)
          sentinel monitor \(masterName) 127.0.0.1 \(masterPort) 2
          sentinel down-after-milliseconds \(masterName) 1000
          sentinel failover-timeout \(masterName) 10000
          sentinel parallel-syncs \(masterName) 1
          """.write(toFile: config, atomically: true, encoding: .utf8)
          return [config, "--sentinel"]
        }, label: "redis-sentinel")
      sentinels.append(sentinel)
      ports.append(port)
    }
    let group = SentinelGroup(
      directory: directory, master: master, replica: replica, sentinels: sentinels, masterPort: masterPort,
      replicaPort: replicaPort, sentinelPorts: ports)
    // Ready when every sentinel knows the replica and the replica has synced.
    try await eventually("the sentinels to see the replica in sync", within: .seconds(60), every: .milliseconds(100)) {
      for port in ports {
        let sentinel = RedisClient(url: RedisURL(endpoint: .tcp(host: "127.0.0.1", port: port)))
        defer { sentinel.close() }
        let replicas = (try? await sentinel.send("SENTINEL", "replicas", masterName))?.array ?? []
        if replicas.isEmpty { return false }
      }
      let replica = group.client(port: replicaPort)
      defer { replica.close() }
      let info = (try? await replica.send("INFO", "replication"))?.string ?? ""
      return info.contains("master_link_status:up")
    }
    return group
  }

  private init(
    directory: String, master: ChildProcess, replica: ChildProcess, sentinels: [ChildProcess], masterPort: Int,
    replicaPort: Int, sentinelPorts: [Int]
  ) {
    self.directory = directory
    self.master = master
    self.replica = replica
    self.sentinels = sentinels
    self.masterPort = masterPort
    self.replicaPort = replicaPort
    self.sentinelPorts = sentinelPorts
  }

  /// A direct client to one server of the group (closed when dropped).
  public func client(port: Int) -> RedisClient {
    RedisClient(url: RedisURL(endpoint: .tcp(host: "127.0.0.1", port: port)))
  }

  /// The port the first sentinel that answers names as the master now.
  public func currentMasterPort() async throws -> Int? {
    for port in sentinelPorts {
      let sentinel = client(port: port)
      defer { sentinel.close() }
      if let address = try? await sentinel.send("SENTINEL", "get-master-addr-by-name", Self.masterName).array,
        address.count == 2, let named = address[1].string.flatMap({ Int($0) })
      {
        return named
      }
    }
    return nil
  }

  /// Kills every process of the group.
  public func stop() {
    for process in [master, replica] + sentinels where process.isRunning { process.signal(SIGKILL) }
  }

  deinit { stop() }
}
