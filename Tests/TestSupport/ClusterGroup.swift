import Foundation
import RedisClient

#if canImport(Glibc)
  import Glibc
#endif

/// A Redis Cluster of 3 masters and 3 replicas on loopback ports of their own, created with
/// `redis-cli --cluster create`, for tests of routing, migration and failover. A node that stops
/// answering is failed over after 1 s (`cluster-node-timeout 1000`).
public final class ClusterGroup: @unchecked Sendable {
  public let directory: String
  /// Every node by its port; a node a test killed and restarted is replaced here.
  public private(set) var nodes: [Int: ChildProcess]
  public private(set) var ports: [Int]
  private var busPorts: [Int: Int]

  /// What whago is given: every node (any one would do).
  public var url: String {
    "redis+cluster://" + ports.map { "127.0.0.1:\($0)" }.joined(separator: ",") + "/"
  }

  private static var binary: String {
    ProcessInfo.processInfo.environment["REDIS_SERVER_BIN"] ?? "/usr/bin/redis-server"
  }

  private static var cli: String {
    URL(fileURLWithPath: binary).deletingLastPathComponent().appendingPathComponent("redis-cli").path
  }

  private func arguments(port: Int, bus: Int) -> [String] {
    [
      "--port", "\(port)", "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--appendonly", "no",
      "--hz", "100", "--cluster-enabled", "yes", "--cluster-config-file", "nodes-\(port).conf",
      "--cluster-node-timeout", "1000", "--cluster-port", "\(bus)",
      // A replica takes over however long its master was away (the test kills masters on purpose).
      "--cluster-replica-validity-factor", "0",
    ]
  }

  public static func start() async throws -> ClusterGroup {
    let directory = NSTemporaryDirectory() + "whago-cluster-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let group = ClusterGroup(directory: directory)
    for _ in 0..<6 {
      // The bus port is chosen too: the default (port + 10,000) may lie past 65,535.
      let (child, port) = try await SentinelGroup.server(
        { port in group.arguments(port: port, bus: try SentinelGroup.freePort()) }, label: "redis-cluster")
      group.nodes[port] = child
      group.ports.append(port)
    }
    for port in group.ports {
      group.busPorts[port] = Int(
        try await group.client(port: port).send("CONFIG", "GET", "cluster-port").array?[1].string ?? "")
    }
    let create = Process()
    create.executableURL = URL(fileURLWithPath: cli)
    create.arguments =
      ["--cluster", "create"] + group.ports.map { "127.0.0.1:\($0)" } + ["--cluster-replicas", "1", "--cluster-yes"]
    let log = directory + "/create.log"
    _ = FileManager.default.createFile(atPath: log, contents: nil)
    create.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
    create.standardError = create.standardOutput
    try create.run()
    create.waitUntilExit()
    guard create.terminationStatus == 0 else {
      throw TestSetupError(
        "redis-cli --cluster create failed: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }
    try await group.waitUntilHealthy()
    try await group.waitForReplicas()
    return group
  }

  /// Waits until every running master has a replica online (a queue that waits for one replica
  /// answers 503 until then).
  public func waitForReplicas(within limit: Duration = .seconds(60)) async throws {
    try await eventually("every master to have a replica in sync", within: limit, every: .milliseconds(100)) {
      var masters = 0
      for (port, child) in self.nodes where child.isRunning {
        let node = self.client(port: port)
        defer { node.close() }
        let info = (try? await node.send("INFO", "replication"))?.string ?? ""
        if info.contains("role:master") {
          masters += 1
          if !(info.contains("connected_slaves:1") && info.contains("state=online")) { return false }
        } else if !info.contains("master_link_status:up") {
          return false
        }
      }
      return masters == 3
    }
  }

  private init(directory: String) {
    self.directory = directory
    self.nodes = [:]
    self.ports = []
    self.busPorts = [:]
  }

  /// A direct client to one node (closed when dropped).
  public func client(port: Int) -> RedisClient {
    RedisClient(url: RedisURL(endpoint: .tcp(host: "127.0.0.1", port: port)))
  }

  /// Waits until every running node says the cluster is ok and every slot has a master that answers.
  public func waitUntilHealthy(within limit: Duration = .seconds(60)) async throws {
    try await eventually("the cluster to be ok on every node", within: limit, every: .milliseconds(100)) {
      for (port, child) in self.nodes where child.isRunning {
        let node = self.client(port: port)
        defer { node.close() }
        let info = (try? await node.send("CLUSTER", "INFO"))?.string ?? ""
        if !info.contains("cluster_state:ok") { return false }
      }
      return true
    }
  }

  /// The port of the master that serves `key`'s slot now, as a running node sees it.
  public func masterPort(of key: String) async throws -> Int {
    let slot = ClusterSlot.of(key)
    for (port, child) in nodes where child.isRunning {
      let node = client(port: port)
      defer { node.close() }
      guard let ranges = try? await node.send("CLUSTER", "SLOTS").array else { continue }
      for range in ranges {
        guard let fields = range.array, fields.count >= 3, let first = fields[0].int, let last = fields[1].int,
          (Int(first)...Int(last)).contains(slot), let master = fields[2].array, let owner = master[1].int
        else { continue }
        return Int(owner)
      }
    }
    throw TestSetupError("no node of the cluster names a master for slot \(slot)")
  }

  /// The node id (`CLUSTER MYID`) of the node on `port`.
  public func nodeID(port: Int) async throws -> String {
    let node = client(port: port)
    defer { node.close() }
    guard let id = try await node.send("CLUSTER", "MYID").string else { throw TestSetupError("no CLUSTER MYID") }
    return id
  }

  /// Kills the node on `port` with SIGKILL.
  public func kill(port: Int) {
    nodes[port]?.signal(SIGKILL)
  }

  /// Starts the node on `port` again from its nodes.conf: it rejoins the cluster (as a replica of
  /// whoever took over its slots).
  public func restart(port: Int) async throws {
    guard let bus = busPorts[port] else { throw TestSetupError("no node on port \(port)") }
    let child = try ChildProcess(
      executable: Self.binary, arguments: arguments(port: port, bus: bus), environment: ["LD_PRELOAD": ""],
      label: "redis-cluster")
    nodes[port] = child
    let node = client(port: port)
    defer { node.close() }
    try await eventually("the restarted node on \(port) to answer", within: .seconds(20), every: .milliseconds(50)) {
      (try? await node.send("PING")) != nil
    }
  }

  /// Kills every node of the group.
  public func stop() {
    for process in nodes.values where process.isRunning { process.signal(SIGKILL) }
  }

  deinit { stop() }
}
