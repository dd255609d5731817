import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// Serves the process's metrics as Prometheus text at `/metrics`.
public enum MetricsServer {
  public static func make(host: String, port: Int, registry: PrometheusCollectorRegistry, logger: Logger)
    -> some Service
  {
    let router = Router()
    router.get("metrics") { _, _ -> Response in
      var buffer: [UInt8] = []
      registry.emit(into: &buffer)
      return Response(
        status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
        body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
    }
    router.get("healthz") { _, _ in "ok\n" }
    return Application(
      router: router, configuration: .init(address: .hostname(host, port: port), serverName: "whago-worker"),
      logger: logger)
  }
}
