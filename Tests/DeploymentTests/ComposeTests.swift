import Foundation
import Testing

/// compose.yaml and the Dockerfile, checked without a Docker engine: `docker-compose config` (Debian's
/// docker-compose, installed by scripts/test) parses and validates the file against the Compose schema.
@Suite struct ComposeTests {
  @Test func composeFileIsValid() throws {
    let root = try repositoryRoot()
    let compose = try #require(
      executable(named: "docker-compose"),
      "docker-compose is not on PATH: run the tests with scripts/test, which installs it (apt package docker-compose)")

    let check = try run(compose, ["-f", "compose.yaml", "config", "-q"], in: root)
    try #require(check.status == 0, "docker-compose config -q rejected compose.yaml:\n\(check.errors)")

    let listed = try run(compose, ["-f", "compose.yaml", "--profile", "demo", "config", "--services"], in: root)
    #expect(listed.status == 0, "\(listed.errors)")
    let services = Set(listed.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
    for name in ["redis", "postgres", "migrate", "serve", "work", "waha-sim", "docker-sim", "payments-sim"] {
      #expect(services.contains(name), "compose.yaml has no service \(name); it has \(services.sorted())")
    }

    let cluster = try run(compose, ["-f", "compose.yaml", "--profile", "cluster", "config", "--services"], in: root)
    #expect(cluster.status == 0, "\(cluster.errors)")
    let clusterServices = Set(cluster.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
    for name in (1...6).map({ "redis-node-\($0)" }) + ["redis-cluster-create"] {
      #expect(clusterServices.contains(name), "the cluster profile has no service \(name)")
    }

    let full = try run(compose, ["-f", "compose.yaml", "config"], in: root)
    #expect(full.status == 0, "\(full.errors)")
    for name in (1...6).map({ "redis-node-\($0)" }) + ["redis-cluster-create"] {
      let lines = section(of: name, in: full.output).map { $0.trimmingCharacters(in: .whitespaces) }
      #expect(lines.contains("- cluster"), "\(name) should run only under the cluster profile: \(lines)")
    }
    let work = section(of: "work", in: full.output)
    #expect(work.contains { $0.trimmingCharacters(in: .whitespaces) == "replicas: 3" }, "work should run 3 replicas")
    // The command as a YAML list: `- redis-server`, `- --appendonly`, `- "yes"`.
    let redis = section(of: "redis", in: full.output).map { line in
      let item = line.trimmingCharacters(in: .whitespaces)
      return (item.hasPrefix("- ") ? String(item.dropFirst(2)) : item).trimmingCharacters(in: ["\"", "'"])
    }
    let flag = try #require(redis.firstIndex(of: "--appendonly"), "redis should run with --appendonly yes")
    #expect(redis.indices.contains(flag + 1) && redis[flag + 1] == "yes", "redis should run with --appendonly yes")
  }

  @Test func dockerfileShipsTheCLibraries() throws {
    let text = try String(
      contentsOf: try repositoryRoot().appendingPathComponent("Dockerfile"), encoding: .utf8)
    let stages = text.components(separatedBy: "\nFROM ")
    #expect(stages.count >= 3, "the Dockerfile should have a build stage and a runtime stage")
    let runtime = stages.last ?? ""
    #expect(runtime.hasPrefix("debian:bookworm-slim"), "the runtime stage should be debian:bookworm-slim")
    for package in ["libhiredis0.14", "libpq5", "libcurl4"] {
      #expect(runtime.contains(package), "the runtime stage should install \(package)")
    }
    #expect(runtime.contains("ENTRYPOINT [\"whago\"]"))
  }

  /// The lines of one service in `docker-compose config` output (services sit at two spaces' indent).
  private func section(of service: String, in config: String) -> [String] {
    let lines = config.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let start = lines.firstIndex(of: "  \(service):") else { return [] }
    let rest = lines[(start + 1)...]
    let end = rest.firstIndex { !$0.hasPrefix("   ") } ?? lines.endIndex
    return Array(lines[(start + 1)..<end])
  }

  private func repositoryRoot() throws -> URL {
    var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while directory.path != "/" {
      if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
        return directory
      }
      directory.deleteLastPathComponent()
    }
    throw SetupError("no Package.swift above \(#filePath)")
  }

  private func executable(named name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
  }

  /// Runs a command to completion; stdout and stderr go through files, so neither can fill a pipe.
  private func run(_ executable: String, _ arguments: [String], in directory: URL) throws -> (
    status: Int32, output: String, errors: String
  ) {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("compose-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let out = scratch.appendingPathComponent("out")
    let err = scratch.appendingPathComponent("err")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = directory
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    try process.run()
    process.waitUntilExit()
    return (
      process.terminationStatus, try String(contentsOf: out, encoding: .utf8),
      try String(contentsOf: err, encoding: .utf8)
    )
  }

  struct SetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
  }
}
