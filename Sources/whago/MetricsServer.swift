import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// Serves the process's metrics as Prometheus text at `/metrics`.
public enum MetricsServer {
  /// `onListening` is told the port bound (the kernel's choice when `port` is 0).
  public static func make(
    host: String, port: Int, registry: PrometheusCollectorRegistry, logger: Logger,
    onListening: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
  ) -> some Service {
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
      onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) }, logger: logger)
  }
}
