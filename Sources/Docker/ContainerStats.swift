import Foundation

/// One sample of a container's resource use (`GET /containers/{id}/stats?stream=false`), with CPU
/// and memory computed the way `docker stats` computes them. It exists because the naive readings
/// are wrong, as WHAGO's first code was: CPU time must be compared with the host's over the same
/// interval and scaled by the CPUs the container may use, and memory must leave out the page cache
/// the kernel reclaims at will, or every container looks near its limit.
public struct ContainerStats: Sendable, Equatable {
  /// When the engine took the sample.
  public var read: Date?
  /// `cpu_stats.cpu_usage.total_usage`: the container's CPU time, in nanoseconds.
  public var cpuTotalUsage: Int
  /// The same, at the previous sample (`precpu_stats`).
  public var previousCPUTotalUsage: Int
  /// `cpu_stats.system_cpu_usage`: the host's CPU time over all CPUs, in nanoseconds.
  public var systemCPUUsage: Int
  public var previousSystemCPUUsage: Int
  /// `cpu_stats.online_cpus` (older engines: the length of `percpu_usage`; else 1).
  public var onlineCPUs: Int
  /// `memory_stats.usage`: includes the page cache.
  public var memoryUsage: Int
  /// `memory_stats.limit`: the container's limit, or the host's memory without one.
  public var memoryLimit: Int
  /// `memory_stats.stats.inactive_file` (cgroup v2), else `stats.cache` (cgroup v1): the page cache
  /// left out of `memoryUsed`.
  public var memoryCache: Int

  /// The share of one CPU the container used between the two samples, times the CPUs online:
  /// 250 means two and a half CPUs busy. 0 when the host's time did not move (the first sample,
  /// a stopped container).
  public var cpuPercent: Double {
    let container = Double(cpuTotalUsage) - Double(previousCPUTotalUsage)
    let system = Double(systemCPUUsage) - Double(previousSystemCPUUsage)
    guard system > 0, container > 0 else { return 0 }
    return container / system * Double(onlineCPUs) * 100
  }

  /// Memory in use without the reclaimable page cache, in bytes (what `docker stats` shows).
  public var memoryUsed: Int { max(0, memoryUsage - memoryCache) }

  /// `memoryUsed` as a percentage of `memoryLimit`; 0 without a limit reported.
  public var memoryPercent: Double {
    memoryLimit > 0 ? Double(memoryUsed) / Double(memoryLimit) * 100 : 0
  }

  public init(
    read: Date? = nil, cpuTotalUsage: Int, previousCPUTotalUsage: Int, systemCPUUsage: Int,
    previousSystemCPUUsage: Int, onlineCPUs: Int, memoryUsage: Int, memoryLimit: Int, memoryCache: Int
  ) {
    self.read = read
    self.cpuTotalUsage = cpuTotalUsage
    self.previousCPUTotalUsage = previousCPUTotalUsage
    self.systemCPUUsage = systemCPUUsage
    self.previousSystemCPUUsage = previousSystemCPUUsage
    self.onlineCPUs = onlineCPUs
    self.memoryUsage = memoryUsage
    self.memoryLimit = memoryLimit
    self.memoryCache = memoryCache
  }

  /// Reads the engine's stats JSON. Fields a stopped container or an older engine leaves out read as 0.
  public init(json: [UInt8]) throws(DockerError) {
    let raw: Raw
    do {
      raw = try JSONDecoder().decode(Raw.self, from: Data(json))
    } catch {
      throw .invalidResponse("stats: \(error)")
    }
    let cpu = raw.cpu_stats
    let online = cpu?.online_cpus ?? 0
    let perCPU = cpu?.cpu_usage?.percpu_usage?.count ?? 0
    let memory = raw.memory_stats
    self.init(
      read: DockerTime.parse(raw.read),
      cpuTotalUsage: cpu?.cpu_usage?.total_usage ?? 0,
      previousCPUTotalUsage: raw.precpu_stats?.cpu_usage?.total_usage ?? 0,
      systemCPUUsage: cpu?.system_cpu_usage ?? 0,
      previousSystemCPUUsage: raw.precpu_stats?.system_cpu_usage ?? 0,
      onlineCPUs: online > 0 ? online : max(1, perCPU),
      memoryUsage: memory?.usage ?? 0,
      memoryLimit: memory?.limit ?? 0,
      memoryCache: memory?.stats?.inactive_file ?? memory?.stats?.cache ?? 0)
  }

  /// The engine's field names, snake case as it sends them.
  private struct Raw: Decodable {
    struct CPUUsage: Decodable {
      var total_usage: Int?
      var percpu_usage: [Int]?
    }
    struct CPU: Decodable {
      var cpu_usage: CPUUsage?
      var system_cpu_usage: Int?
      var online_cpus: Int?
    }
    struct Memory: Decodable {
      struct Stats: Decodable {
        var inactive_file: Int?
        var cache: Int?
      }
      var usage: Int?
      var limit: Int?
      var stats: Stats?
    }
    var read: String?
    var cpu_stats: CPU?
    var precpu_stats: CPU?
    var memory_stats: Memory?
  }
}
