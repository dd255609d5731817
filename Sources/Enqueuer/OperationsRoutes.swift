import Foundation
import Hummingbird
import JobQueue
import Logging
import Postgres
import Prometheus
import Store

/// The routes for machines that run the service: liveness, readiness, metrics, the API's description.
struct OperationsRoutes {
  let broker: Broker
  let store: Store
  let metrics: PrometheusCollectorRegistry
  let scraped: ScrapeTimeMetrics
  let logger: Logger

  func register(on router: Router<EnqueuerContext>) {
    router.get("healthz") { _, _ in
      Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
    }
    router.get("readyz") { _, _ in try await readiness() }
    router.get("metrics") { _, _ -> Response in
      await scraped.refresh()
      var buffer: [UInt8] = []
      metrics.emit(into: &buffer)
      return Response(
        status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
        body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
    }
    router.get("openapi.yaml") { _, _ in
      Response(
        status: .ok, headers: [.contentType: "application/yaml"],
        body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_yaml)))
    }
  }

  /// 200 when Redis and PostgreSQL both answer, else 503 naming the one that does not. The answer
  /// is public (load balancers ask it), so it says only "unavailable"; why goes to the log, where
  /// addresses and driver messages are for operators only.
  func readiness() async throws -> Response {
    struct Readiness: Encodable {
      var redis: String
      var postgres: String
    }
    async let redis: String = {
      do {
        _ = try await broker.redisTime()
        return "ok"
      } catch {
        logger.warning("not ready: Redis does not answer", metadata: ["error": "\(error)"])
        return "unavailable"
      }
    }()
    async let postgres: String = {
      do {
        try await store.pool.query("SELECT 1")
        return "ok"
      } catch {
        logger.warning("not ready: PostgreSQL does not answer", metadata: ["error": "\(error)"])
        return "unavailable"
      }
    }()
    let result = Readiness(redis: await redis, postgres: await postgres)
    let ready = result.redis == "ok" && result.postgres == "ok"
    return try JSONResponse.make(ready ? .ok : .serviceUnavailable, result)
  }
}
