import Foundation
import Wire

/// A container's CPU and memory as `GET /containers/{id}/stats?stream=false` reports them, in the
/// engine's field names. CPU is the child's real CPU time (from /proc) against the host's time over
/// the same interval (wall time × CPUs online), each answer compared with the previous one as the
/// engine compares two samples; memory is the child's resident set plus a page cache of 4 MiB
/// (`inactive_file`, which a correct reader leaves out). A test's `/_sim/.../cpu` or `/memory`
/// percentage replaces the real reading with numbers that compute to exactly that percentage.
struct UsageSampler: Sendable {
  /// Cumulative CPU time charged to the container, in nanoseconds (it survives restarts, as a
  /// container's cgroup counter does not; the difference does not matter to a percentage).
  private var cpuTotal = 0
  /// The previous sample: the container's CPU time, the host's, and when (uptime nanoseconds).
  private var previous: (cpu: Int, system: Int, at: Int)?
  /// The child's own CPU reading at the previous sample, and whose it was.
  private var processCPU: (pid: Int, nanoseconds: Int)?

  static let pageCache = 4 << 20
  static let onlineCPUs = max(1, ProcessInfo.processInfo.activeProcessorCount)

  /// Starts the comparison afresh at a (re)start, so the first answer covers the time since then.
  mutating func started() {
    let now = Self.uptimeNanoseconds()
    previous = (cpuTotal, now * Self.onlineCPUs, now)
    processCPU = nil
  }

  /// One sample of a running container's process.
  mutating func sample(
    id: String, name: String, pid: Int, memoryLimit: Int, cpuPercent: Double?, memoryPercent: Double?
  ) -> JSONValue {
    // The host's CPU time is its uptime × CPUs online, as /proc/stat's total (idle included) grows.
    let now = Self.uptimeNanoseconds()
    let oneSecond = 1_000_000_000
    let before = previous ?? (cpuTotal, (now - oneSecond) * Self.onlineCPUs, now - oneSecond)
    // Strictly later than the previous sample, however close the two calls.
    let system = max(now * Self.onlineCPUs, before.system + Self.onlineCPUs)
    if let cpuPercent {
      // Δcpu / Δsystem × CPUs × 100 = percent, with Δsystem = elapsed × CPUs.
      let elapsed = Double(system - before.system) / Double(Self.onlineCPUs)
      cpuTotal = before.cpu + Int((cpuPercent / 100 * elapsed).rounded())
    } else if let used = Self.processCPUNanoseconds(pid: pid) {
      let last = processCPU?.pid == pid ? processCPU?.nanoseconds ?? 0 : 0
      cpuTotal += max(0, used - last)
      processCPU = (pid, used)
    }
    previous = (cpuTotal, system, now)

    let limit = memoryLimit > 0 ? memoryLimit : Self.hostMemory
    let used: Int
    if let memoryPercent {
      used = Int((memoryPercent / 100 * Double(limit)).rounded())
    } else {
      used = Self.residentBytes(pid: pid) ?? 32 << 20
    }
    let preread = DockerText.timestamp(Date().addingTimeInterval(-Double(now - before.at) / 1e9))
    return [
      "id": JSONValue(id), "name": JSONValue("/" + name), "read": JSONValue(DockerText.timestamp(Date())),
      "preread": JSONValue(preread), "num_procs": 0, "pids_stats": ["current": 1],
      "cpu_stats": Self.cpu(total: cpuTotal, system: system),
      "precpu_stats": Self.cpu(total: before.cpu, system: before.system),
      "memory_stats": [
        "usage": JSONValue(used + Self.pageCache), "limit": JSONValue(limit),
        "stats": [
          "anon": JSONValue(used), "file": JSONValue(Self.pageCache), "inactive_file": JSONValue(Self.pageCache),
          "active_file": 0,
        ],
      ],
    ]
  }

  /// What the engine answers for a container that is not running: the shape, all zero.
  static func stopped(id: String, name: String) -> JSONValue {
    [
      "id": JSONValue(id), "name": JSONValue("/" + name), "read": JSONValue(DockerText.zeroTime),
      "preread": JSONValue(DockerText.zeroTime), "num_procs": 0, "pids_stats": [:],
      "cpu_stats": [
        "cpu_usage": ["total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0], "throttling_data": [:],
      ],
      "precpu_stats": [
        "cpu_usage": ["total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0], "throttling_data": [:],
      ],
      "memory_stats": [:],
    ]
  }

  private static func cpu(total: Int, system: Int) -> JSONValue {
    [
      "cpu_usage": [
        "total_usage": JSONValue(total), "usage_in_kernelmode": JSONValue(total / 4),
        "usage_in_usermode": JSONValue(total - total / 4),
      ],
      "system_cpu_usage": JSONValue(system), "online_cpus": JSONValue(onlineCPUs),
      "throttling_data": ["periods": 0, "throttled_periods": 0, "throttled_time": 0],
    ]
  }

  private static func uptimeNanoseconds() -> Int {
    Int(ProcessInfo.processInfo.systemUptime * 1e9)
  }

  /// utime + stime of `/proc/<pid>/stat`, in nanoseconds.
  private static func processCPUNanoseconds(pid: Int) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = text.lastIndex(of: ")")
    else { return nil }
    // Fields after the command's closing parenthesis start at field 3 (state); utime is 14, stime 15.
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Int(fields[11]), let kernel = Int(fields[12]) else { return nil }
    let ticks = max(1, sysconf(Int32(_SC_CLK_TCK)))
    return (user + kernel) * (1_000_000_000 / ticks)
  }

  /// The resident set of `/proc/<pid>/statm`, in bytes.
  private static func residentBytes(pid: Int) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return nil }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
  }

  /// MemTotal of /proc/meminfo: the limit a container without one reports.
  static let hostMemory: Int = {
    guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
      let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }),
      let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
    else { return 8 << 30 }
    return kilobytes * 1024
  }()
}
