import Foundation

/// A real child process (a worker, a producer, a redis-server) that tests start, signal and kill.
public final class ChildProcess: @unchecked Sendable {
  public let process = Process()
  public let logPath: String

  public init(
    executable: String, arguments: [String], environment: [String: String] = [:], label: String,
    workingDirectory: String? = nil
  ) throws {
    process.executableURL = URL(fileURLWithPath: executable)
    if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    process.environment = env
    logPath = NSTemporaryDirectory() + "whago-\(label)-\(UUID().uuidString.prefix(8)).log"
    _ = FileManager.default.createFile(atPath: logPath, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
  }

  public var pid: Int32 { process.processIdentifier }
  public var isRunning: Bool { process.isRunning && exitStatus() == nil }

  /// The child's exit status if it has exited, asked of the kernel without reaping it (Foundation
  /// still reaps it). Foundation's `Process` on Linux learns of an exit only when a socket the
  /// child inherited closes, and a sibling spawned at the same moment can inherit that socket too
  /// (swift-corelibs-foundation#4795): `isRunning` then stays true until the sibling exits, which
  /// stalled CLI calls for minutes while a suite started servers in parallel.
  private func exitStatus() -> Int32? {
    var info = siginfo_t()
    guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0,
      info._sifields._sigchld.si_pid == pid
    else { return nil }
    return info._sifields._sigchld.si_status
  }

  public func signal(_ signal: Int32) {
    kill(process.processIdentifier, signal)
  }

  /// Waits for the process to exit and returns its status, or throws after `limit`.
  @discardableResult
  public func waitForExit(within limit: Duration = .seconds(30)) async throws -> Int32 {
    try await eventually("process \(pid) to exit", within: limit, every: .milliseconds(20)) { !isRunning }
    while true {
      // Foundation may be reaping it at this very moment: then its own status is soon there.
      if !process.isRunning { return process.terminationStatus }
      if let status = exitStatus() { return status }
      try await Task.sleep(for: .milliseconds(5))
    }
  }

  public var output: String {
    (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
  }

  /// The port a server bound, read from its output: the number after `marker` (whago's servers log
  /// "listening on http://HOST:PORT"). Servers that tests start bind port 0, so no port is guessed
  /// free and then taken by someone else first.
  public func listeningPort(
    after marker: String = "listening on http://", within limit: Duration = .seconds(60)
  ) async throws -> Int {
    var found: Int?
    try await eventually("\(logPath) to say where it listens", within: limit, every: .milliseconds(20)) {
      found = Self.port(in: self.output, after: marker)
      if found == nil && !self.isRunning { throw TestSetupError("the server exited before listening: \(self.output)") }
      return found != nil
    }
    return found!
  }

  static func port(in output: String, after marker: String) -> Int? {
    guard let start = output.range(of: marker) else { return nil }
    let address = output[start.upperBound...].prefix { !$0.isWhitespace }
    let port = address.lastIndex(of: ":").map { address[address.index(after: $0)...] } ?? address
    return Int(port.prefix { $0.isNumber })
  }

  deinit {
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
  }
}

/// The `whago` binary built for this test run.
public enum Whago {
  public static var binary: String {
    get throws {
      if let path = ProcessInfo.processInfo.environment["WHAGO_BIN"] { return path }
      throw TestSetupError("WHAGO_BIN is not set: run the tests with scripts/test, which builds whago first")
    }
  }

  /// Starts `whago work` on the given queues against `redis`.
  public static func worker(
    redis: String, queues: String, concurrency: Int = 16, lease: String = "2s", grace: String = "10s",
    extra: [String] = []
  ) throws -> ChildProcess {
    try ChildProcess(
      executable: try binary,
      arguments: ["work", "--queues", queues, "--concurrency", String(concurrency), "--lease", lease, "--grace", grace]
        + extra,
      environment: ["WHAGO_REDIS_URL": redis], label: "worker")
  }

  /// Starts a whago server command (`serve`, `sim waha`, `sim payments`) with `--port 0` and returns
  /// it with the port the kernel gave it.
  public static func server(
    _ arguments: [String], environment: [String: String] = [:], label: String
  ) async throws -> (child: ChildProcess, port: Int) {
    let child = try ChildProcess(
      executable: try binary, arguments: arguments + ["--port", "0"], environment: environment, label: label)
    return (child, try await child.listeningPort())
  }

  /// Runs a whago command to completion and returns its exit status and output.
  public static func run(_ arguments: [String], redis: String, environment: [String: String] = [:]) async throws -> (
    status: Int32, output: String
  ) {
    let child = try ChildProcess(
      executable: try binary, arguments: arguments,
      environment: environment.merging(["WHAGO_REDIS_URL": redis]) { mine, _ in mine }, label: "cli")
    let status = try await child.waitForExit(within: .seconds(120))
    return (status, child.output)
  }
}
