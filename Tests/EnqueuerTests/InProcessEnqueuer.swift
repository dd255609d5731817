import Enqueuer
import Foundation
import Hummingbird
import HummingbirdTesting
import JobCatalog
import JobQueue
import Logging
import Postgres
import Prometheus
import Store
import TestSupport

/// The enqueuer's routes in this process, on Hummingbird's test client: route logic tested
/// without spawning `whago serve`, against the real Redis and PostgreSQL. The pool is closed when
/// `body` ends, whether it passes or throws. `broker` replaces the test Redis (one that is down).
func withInProcessEnqueuer(
  limits: EnqueuerServer.Limits = .init(), broker: Broker? = nil,
  _ body: @Sendable (any TestClientProtocol) async throws -> Void
) async throws {
  try await TestDatabase.migrate()
  let pool = try TestDatabase.pool(size: 2)
  defer { pool.close() }
  let jobs = ProcessInfo.processInfo.environment["WHAGO_JOBS_DIR"] ?? "jobs"
  let app = EnqueuerServer.make(
    host: "127.0.0.1", port: 0, broker: try broker ?? TestRedis.broker(), store: Store(pool: pool),
    catalog: try JobCatalog.load(directory: jobs), metrics: PrometheusCollectorRegistry(), limits: limits,
    logger: Logger(label: "test.enqueuer"))
  try await app.test(.router, body)
}
