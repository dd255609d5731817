import CampaignStore
import Foundation
import Hummingbird
import JobQueue
import Store

extension DashboardRoutes {
  func registerTenantPages(on admin: RouterGroup<EnqueuerContext>) {
    admin.get("limits") { request, _ in try await limits(request) }
    admin.get("charts") { request, _ in try await charts(request) }
    admin.get("tenants") { _, _ in DashboardResponse.page(TenantPage.index(try await store.tenants())) }
    admin.get("tenants/:name") { _, context in
      try await tenant(context.parameters.get("name").flatMap { $0.removingPercentEncoding } ?? "")
    }
  }

  func limits(_ request: Request) async throws -> Response {
    let filter = FormFields(request.uri.query)["name"]
    let buckets = try await broker.buckets(named: filter, limit: LimitsPage.limit)
    // The plans of the tenants the buckets name, not of every tenant: the page refreshes every 5 s.
    let plans = try await store.plans(ofTenants: Array(Set(buckets.compactMap { LimitsPage.tenant(of: $0.name) })))
    let rows = buckets.map { bucket in
      let tenant = LimitsPage.tenant(of: bucket.name)
      return LimitsPage.Row(bucket: bucket, tenant: tenant, plan: tenant.flatMap { plans[$0] })
    }
    return DashboardResponse.page(LimitsPage.render(rows, queues: try await broker.stats(), filter: filter))
  }

  func charts(_ request: Request) async throws -> Response {
    let fields = FormFields(request.uri.query)
    let queues = try await broker.queueNames().sorted()
    let queue = fields["queue"].flatMap { queues.contains($0) ? $0 : nil } ?? queues.first
    let range = fields["range"].flatMap(ChartsPage.Range.init(rawValue:)) ?? .hour
    let type = fields["type"]
    var series: RunStatsSeries?
    if let queue {
      series = try await broker.runStats(queue: queue, type: type, resolution: range.resolution, bars: range.bars)
    }
    return DashboardResponse.page(
      ChartsPage.render(queues: queues, queue: queue, type: type, range: range, series: series))
  }

  func tenant(_ name: String) async throws -> Response {
    guard !name.isEmpty, let access = try await store.tenantAccess(named: name) else {
      return DashboardResponse.page(TenantPage.missing(name), status: .notFound)
    }
    let tenant = access.tenant
    var jobs: [TenantPage.JobCounts] = []
    let cap = TenantPage.countCap
    let only = JobFilter(tenant: tenant.lane)
    for queue in try await broker.stats() {
      var counts = TenantPage.JobCounts(queue: queue.queue, ready: 0, waiting: 0, running: 0, dead: 0)
      if queue.ready > 0 { counts.ready = try await broker.readyCount(queue: queue.queue, tenant: tenant.lane) }
      if queue.scheduled > 0 {
        counts.waiting = try await broker.waitingJobs(queue: queue.queue, kind: nil, filter: only, limit: cap).count
      }
      if queue.active > 0 {
        counts.running = try await broker.runningJobs(queue: queue.queue, limit: 10 * cap).filter {
          $0.tenant == tenant.lane
        }.count
      }
      if queue.dead > 0 {
        counts.dead = try await broker.deadLetters(queue: queue.queue, filter: only, limit: cap).count
      }
      jobs.append(counts)
    }
    let campaigns = try await store.campaigns(
      tenantID: tenant.id, filter: CampaignFilter(statuses: [.running, .paused, .scheduled]), after: 0, limit: 50
    ).map { ($0.0, $0.2) }
    let view = TenantPage.View(
      tenant: tenant, plan: try? await store.plan(named: tenant.plan),
      balance: try? await store.creditBalance(tenantID: tenant.id), jobs: jobs, campaigns: campaigns,
      chips: try await store.chips(tenantID: tenant.id),
      buckets: try await broker.buckets(named: tenant.lane, limit: 100),
      events: try await store.recentEvents(tenant: tenant.name, types: [], limit: 20))
    return DashboardResponse.page(TenantPage.render(view))
  }
}
