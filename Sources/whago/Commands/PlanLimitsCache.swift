import Store
import Synchronization
import Worker

/// Tenants' plan limits for a worker's rate limits, kept for `lifetime` so a busy worker does not
/// read PostgreSQL for every job; a plan change reaches the worker's takes within that time.
final class PlanLimitsCache: Sendable {
  private let store: Store
  private let lifetime: Duration
  private let entries = Mutex<[String: (limits: [String: Double?], expires: ContinuousClock.Instant)]>([:])

  init(store: Store, lifetime: Duration) {
    self.store = store
    self.lifetime = lifetime
  }

  var provider: PlanLimitsProvider {
    { [self] tenant in try await limits(tenant: tenant) }
  }

  func limits(tenant: String) async throws -> [String: Double?] {
    let now = ContinuousClock.now
    if lifetime > .zero, let hit = entries.withLock({ $0[tenant] }), hit.expires > now { return hit.limits }
    guard let access = try await store.tenantAccess(named: tenant) else { throw TenantError.notFound(tenant) }
    let limits = access.plan.limitValues
    if lifetime > .zero {
      entries.withLock { entries in
        if entries.count > 10_000 { entries.removeAll(keepingCapacity: true) }
        entries[tenant] = (limits, now + lifetime)
      }
    }
    return limits
  }
}
