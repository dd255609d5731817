import JobQueue
import Prometheus
import Store
import Synchronization

/// What serve reads from Redis and PostgreSQL each time Prometheus scrapes `/metrics`: whether
/// each answers, every queue's backlog and the age of its oldest ready job, the live workers per
/// queue, and chips per tenant and status. Read at scrape time, so one serve reports the whole
/// system's state (workers export only what they did themselves), and a series whose subject is
/// gone (a tenant's last failed chip recovered) is dropped rather than left at its last value,
/// which would keep its alert firing. `deploy/prometheus/alerts.yaml` alerts on these.
final class ScrapeTimeMetrics: Sendable {
  private struct Series: Hashable {
    var name: String
    var labels: [String]
  }

  private let broker: Broker
  private let store: Store
  private let registry: PrometheusCollectorRegistry
  private let shown = Mutex<[Series: Gauge]>([:])

  init(broker: Broker, store: Store, registry: PrometheusCollectorRegistry) {
    self.broker = broker
    self.store = store
    self.registry = registry
  }

  static let help: [String: String] = [
    "whago_dependency_up": "1 when serve reached the dependency (redis, postgres) at this scrape, else 0.",
    "whago_queue_jobs": "Jobs in a queue by state: ready, scheduled, active (leased), dead.",
    "whago_queue_oldest_ready_age_seconds": "How long the oldest ready job of the queue has waited; 0 when none.",
    "whago_queue_paused": "1 when the queue is paused (whago queue pause), else 0.",
    "whago_workers_live": "Worker processes with a fresh heartbeat that serve the queue.",
    "whago_chips": "Chips by tenant and status (WORKING, FAILED, SCAN_QR_CODE, ...).",
  ]

  /// Reads everything and sets the gauges; a dependency that does not answer leaves its gauges out.
  func refresh() async {
    var values: [Series: Double] = [:]
    let stats = try? await broker.stats()
    values[Series(name: "whago_dependency_up", labels: ["dependency", "redis"])] = stats == nil ? 0 : 1
    if let stats {
      // Unread, the live workers are left out rather than reported as none (which would page).
      let workers = try? await broker.workers()
      for queue in stats {
        for (state, count) in [
          ("ready", queue.ready), ("scheduled", queue.scheduled), ("active", queue.active), ("dead", queue.dead),
        ] {
          values[Series(name: "whago_queue_jobs", labels: ["queue", queue.queue, "state", state])] = Double(count)
        }
        let age = Double(queue.oldestReadyAgeMs ?? 0) / 1000
        values[Series(name: "whago_queue_oldest_ready_age_seconds", labels: ["queue", queue.queue])] = age
        values[Series(name: "whago_queue_paused", labels: ["queue", queue.queue])] = queue.paused ? 1 : 0
        // An explicit 0 for a queue nobody serves: an absent series would never fire `== 0`.
        if let live = workers?.filter({ $0.queues.contains(queue.queue) }).count {
          values[Series(name: "whago_workers_live", labels: ["queue", queue.queue])] = Double(live)
        }
      }
    }
    let chips = try? await store.chipCounts()
    values[Series(name: "whago_dependency_up", labels: ["dependency", "postgres"])] = chips == nil ? 0 : 1
    for chip in chips ?? [] {
      values[Series(name: "whago_chips", labels: ["tenant", chip.tenant, "status", chip.status.rawValue])] =
        Double(chip.count)
    }
    apply(values)
  }

  private func apply(_ values: [Series: Double]) {
    shown.withLock { shown in
      for (series, gauge) in shown where values[series] == nil {
        registry.unregisterGauge(gauge)
        shown[series] = nil
      }
      for (series, value) in values {
        let gauge =
          shown[series]
          ?? registry.makeGauge(
            descriptor: MetricNameDescriptor(
              metricName: series.name, unitName: "", helpText: Self.help[series.name] ?? ""),
            labels: stride(from: 0, to: series.labels.count, by: 2).map { (series.labels[$0], series.labels[$0 + 1]) })
        gauge.set(value)
        shown[series] = gauge
      }
    }
  }
}
