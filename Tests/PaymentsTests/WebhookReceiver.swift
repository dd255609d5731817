import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import TestSupport

/// An in-process HTTP server that keeps every webhook it is sent (query, headers, raw body), so a
/// test can verify a signature over exactly what arrived.
final class WebhookReceiver: Sendable {
  struct Delivery: Sendable {
    var query: [String: String]
    var headers: [String: String]
    var body: Data
  }

  private final class Inbox: Sendable {
    let deliveries = Mutex<[Delivery]>([])
  }

  let port: Int
  private let inbox = Inbox()
  private let group: ServiceGroup
  private let server: Task<Void, any Error>

  var url: String { "http://127.0.0.1:\(port)/hooks/mercadopago" }
  var deliveries: [Delivery] { inbox.deliveries.withLock { $0 } }

  init() async throws {
    port = try freePort()
    let router = Router()
    router.post("hooks/:name") { [inbox] request, _ in
      let body = Data(try await request.body.collect(upTo: 1 << 20).readableBytesView)
      var headers: [String: String] = [:]
      for field in request.headers { headers[field.name.canonicalName] = field.value }
      var query: [String: String] = [:]
      for (name, value) in request.uri.queryParameters { query[String(name)] = String(value) }
      inbox.deliveries.withLock { $0.append(Delivery(query: query, headers: headers, body: body)) }
      return Response(status: .ok)
    }
    router.get("ready") { _, _ in Response(status: .ok) }
    var logger = Logger(label: "webhook-receiver")
    logger.logLevel = .critical
    let app = Application(
      router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
    // A service group, so stopping is a graceful shutdown even with a delivery in flight.
    let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
    self.group = group
    server = Task { try await group.run() }
    let ready = "http://127.0.0.1:\(port)/ready"
    do {
      try await eventually("the webhook receiver to listen", within: .seconds(10), every: .milliseconds(20)) {
        (try? await HTTP.send("GET", ready))?.status == 200
      }
    } catch {
      await stop()
      throw error
    }
  }

  func stop() async {
    await group.triggerGracefulShutdown()
    _ = await server.result
  }
}
