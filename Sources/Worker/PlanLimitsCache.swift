import Synchronization

/// Tenants' plan limits for a worker's rate limits, kept for `lifetime` so a busy worker does not
/// read PostgreSQL for every job; a plan change reaches the worker's takes within that time.
///
/// A tenant whose limits expire is read once: the jobs that miss while that read is in flight wait
/// for it instead of each reading again. Without this, a campaign's hundred senders of one tenant
/// all missed in the same instant and read the tenant and its plan a hundred times a second.
public final class PlanLimitsCache: Sendable {
  public typealias Limits = [String: Double?]

  private enum Entry {
    case ready(Limits, expires: ContinuousClock.Instant)
    case reading(Task<Limits, any Error>)
  }

  private enum Lookup {
    case hit(Limits)
    case wait(Task<Limits, any Error>)
  }

  private let read: PlanLimitsProvider
  private let lifetime: Duration
  private let entries = Mutex<[String: Entry]>([:])

  /// `read` asks the source (PostgreSQL) for one tenant's limits; zero `lifetime` asks every time.
  public init(lifetime: Duration, read: @escaping PlanLimitsProvider) {
    self.read = read
    self.lifetime = lifetime
  }

  public var provider: PlanLimitsProvider {
    { [self] tenant in try await limits(tenant: tenant) }
  }

  public func limits(tenant: String) async throws -> Limits {
    guard lifetime > .zero else { return try await read(tenant) }
    let now = ContinuousClock.now
    let lookup = entries.withLock { cache -> Lookup in
      switch cache[tenant] {
      case .ready(let limits, let expires) where expires > now: return .hit(limits)
      case .reading(let task): return .wait(task)
      default:
        if cache.count > 10_000 { cache.removeAll(keepingCapacity: true) }
        // The task writes its answer under the same lock, so it cannot land before this entry.
        let task = Task { [self] in
          do {
            let limits = try await self.read(tenant)
            self.entries.withLock { $0[tenant] = .ready(limits, expires: .now + self.lifetime) }
            return limits
          } catch {
            self.entries.withLock { $0[tenant] = nil }  // the next job reads again
            throw error
          }
        }
        cache[tenant] = .reading(task)
        return .wait(task)
      }
    }
    switch lookup {
    case .hit(let limits): return limits
    case .wait(let task): return try await task.value
    }
  }
}
