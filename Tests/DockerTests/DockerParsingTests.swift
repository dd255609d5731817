import Foundation
import Testing

@testable import Docker

/// The pure parts of the client: the stats arithmetic, the log frames, the engine's address.
@Suite struct DockerParsingTests {
  @Test func cpuAndMemoryAreComputedAsDockerStatsDoes() throws {
    // Δcontainer 0.2 s of CPU over Δhost 2 s across 4 CPUs: 10% of the host = 40% of one CPU.
    let json = """
      {"read":"2024-05-01T12:00:01.123456789Z",
       "cpu_stats":{"cpu_usage":{"total_usage":600000000},"system_cpu_usage":12000000000,"online_cpus":4},
       "precpu_stats":{"cpu_usage":{"total_usage":400000000},"system_cpu_usage":10000000000,"online_cpus":4},
       "memory_stats":{"usage":314572800,"limit":1073741824,"stats":{"inactive_file":104857600,"cache":1}}}
      """
    let stats = try ContainerStats(json: Array(json.utf8))
    #expect(abs(stats.cpuPercent - 40) < 1e-9)
    #expect(stats.onlineCPUs == 4)
    // usage 300 MiB − inactive_file 100 MiB (cgroup v2; cache is not used when inactive_file is there).
    #expect(stats.memoryUsed == 200 << 20)
    #expect(stats.memoryLimit == 1 << 30)
    #expect(abs(stats.memoryPercent - 19.53125) < 1e-9)
    let read = try #require(stats.read).timeIntervalSince1970
    #expect(abs(read - 1_714_564_801.123456789) < 1e-6)
  }

  @Test func cgroupV1SubtractsTheCacheAndOldEnginesCountPerCPUUsage() throws {
    let json = """
      {"cpu_stats":{"cpu_usage":{"total_usage":1500,"percpu_usage":[700,800]},"system_cpu_usage":20000},
       "precpu_stats":{"cpu_usage":{"total_usage":500},"system_cpu_usage":10000},
       "memory_stats":{"usage":1000,"limit":4000,"stats":{"cache":200}}}
      """
    let stats = try ContainerStats(json: Array(json.utf8))
    // No online_cpus: the length of percpu_usage (2). 1000 / 10000 × 2 × 100.
    #expect(stats.onlineCPUs == 2)
    #expect(abs(stats.cpuPercent - 20) < 1e-9)
    #expect(stats.memoryUsed == 800)
    #expect(abs(stats.memoryPercent - 20) < 1e-9)
  }

  @Test func noHostTimeElapsedIsZeroPercentAndAStoppedContainerReadsAsZero() throws {
    let same = """
      {"cpu_stats":{"cpu_usage":{"total_usage":900},"system_cpu_usage":5000,"online_cpus":8},
       "precpu_stats":{"cpu_usage":{"total_usage":100},"system_cpu_usage":5000}}
      """
    #expect(try ContainerStats(json: Array(same.utf8)).cpuPercent == 0)
    let stopped = try ContainerStats(
      json: Array(
        #"{"read":"0001-01-01T00:00:00Z","cpu_stats":{"cpu_usage":{"total_usage":0}},"memory_stats":{}}"#.utf8))
    #expect(stopped.cpuPercent == 0 && stopped.memoryPercent == 0 && stopped.memoryUsed == 0)
    #expect(stopped.read == nil)
    #expect(throws: DockerError.self) { try ContainerStats(json: Array("not json".utf8)) }
  }

  @Test func logFramesAreSplitByStreamAndLine() throws {
    var bytes: [UInt8] = []
    func frame(_ stream: UInt8, _ text: String) {
      let payload = Array(text.utf8)
      bytes += [stream, 0, 0, 0, 0, 0, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)] + payload
    }
    frame(1, "hello\n")
    frame(2, "oops\nagain\n")
    frame(1, "no newline")
    frame(1, String(repeating: "x", count: 300) + "\r\n")
    let lines = try LogLine.demultiplex(bytes)
    #expect(
      lines == [
        LogLine(stream: .stdout, text: "hello"), LogLine(stream: .stderr, text: "oops"),
        LogLine(stream: .stderr, text: "again"), LogLine(stream: .stdout, text: "no newline"),
        LogLine(stream: .stdout, text: String(repeating: "x", count: 300)),
      ])
    #expect(try LogLine.demultiplex([]) == [])
  }

  @Test func aCutOrForeignFrameIsAnErrorNotText() {
    let header: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 10]
    #expect(throws: DockerError.self) { try LogLine.demultiplex(header + Array("short".utf8)) }
    #expect(throws: DockerError.self) { try LogLine.demultiplex([1, 0, 0]) }
    #expect(throws: DockerError.self) { try LogLine.demultiplex(Array("plain text output\n".utf8)) }
  }

  @Test func anEngineMessageQuotingAnEnvironmentValueIsBlanked() {
    let error = DockerError.badRequest("invalid value 'tok-123456' in WAHA_API_KEY=tok-123456")
    #expect(
      DockerClient.redacting(["tok-123456", "no"], in: error)
        == .badRequest("invalid value '***' in WAHA_API_KEY=***"))
  }

  @Test func theEngineAddressIsReadInDockerHostSpellings() throws {
    #expect(try DockerEndpoint(parsing: "unix:///var/run/docker.sock") == .unixSocket(path: "/var/run/docker.sock"))
    #expect(try DockerEndpoint(parsing: "/tmp/d.sock") == .unixSocket(path: "/tmp/d.sock"))
    #expect(try DockerEndpoint(parsing: "tcp://127.0.0.1:2375") == .tcp(baseURL: "http://127.0.0.1:2375"))
    #expect(try DockerEndpoint(parsing: "http://docker.internal:2375/") == .tcp(baseURL: "http://docker.internal:2375"))
    #expect(try DockerEndpoint(environment: [:]) == .unixSocket(path: "/var/run/docker.sock"))
    #expect(
      try DockerEndpoint(environment: ["WHAGO_DOCKER_HOST": "tcp://10.0.0.5:2375"])
        == .tcp(baseURL: "http://10.0.0.5:2375"))
    for bad in ["https://h:2376", "unix://relative.sock", "ssh://user@host", "tcp://", "tcp://user:pw@h:1"] {
      #expect(throws: DockerError.self, "\(bad)") { try DockerEndpoint(parsing: bad) }
    }
  }
}
