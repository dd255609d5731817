import CampaignStore
import Foundation
import JobQueue
import Store

/// What the overview shows, read once per request so the page and `/dashboard/api/overview` say
/// the same thing.
struct DashboardOverview: Encodable, Sendable {
  struct Queue: Encodable, Sendable {
    var stats: QueueStats
    /// The last hour, a point a minute, oldest first.
    var throughput: [ThroughputPoint]

    /// The queue's numbers at the top level, beside its throughput: one flat object per queue.
    func encode(to encoder: any Encoder) throws {
      try stats.encode(to: encoder)
      var c = encoder.container(keyedBy: Key.self)
      try c.encode(throughput, forKey: .throughput)
    }

    private enum Key: String, CodingKey { case throughput }
  }

  /// Redis time (ms): ages on the page are measured against the same clock the queue uses.
  var now: Int64
  var queues: [Queue]
  var workers: [WorkerStatus]
  var campaigns: [CampaignProgress]

  static func load(broker: Broker, store: Store) async throws -> DashboardOverview {
    async let now = broker.redisTime()
    async let stats = broker.stats()
    async let workers = broker.workers()
    async let campaigns = store.activeCampaigns()
    let queues = try await stats
    let charts = try await withThrowingTaskGroup(of: (Int, [ThroughputPoint]).self) { group in
      for (index, queue) in queues.enumerated() {
        group.addTask { (index, try await broker.throughput(queue: queue.queue, minutes: 60)) }
      }
      var charts = [[ThroughputPoint]](repeating: [], count: queues.count)
      for try await (index, points) in group { charts[index] = points }
      return charts
    }
    return DashboardOverview(
      now: try await now, queues: zip(queues, charts).map { Queue(stats: $0, throughput: $1) },
      workers: try await workers, campaigns: try await campaigns)
  }
}

/// Times as operators read them: UTC, to the second, whatever the server's zone.
func dashboardTime(_ ms: Int64) -> String {
  dashboardTime(Date(timeIntervalSince1970: Double(ms) / 1000))
}

func dashboardTime(_ date: Date) -> String {
  date.ISO8601Format(.init(dateTimeSeparator: .space))
}

/// A short age: `4 s`, `12 min`, `3 h`, `2 d`.
func dashboardAge(_ ms: Int64) -> String {
  let seconds = max(0, ms / 1000)
  if seconds < 120 { return "\(seconds) s" }
  if seconds < 7200 { return "\(seconds / 60) min" }
  if seconds < 172_800 { return "\(seconds / 3600) h" }
  return "\(seconds / 86400) d"
}
