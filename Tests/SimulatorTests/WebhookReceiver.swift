import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing
import WAHASimulator

/// An in-process HTTP server that keeps every webhook it is sent, raw body and headers, so a test can
/// check what arrived and verify its signature over the exact bytes.
final class WebhookReceiver: Sendable {
  struct Delivery: Sendable {
    var path: String
    var headers: [String: String]
    var body: Data
    var json: JSON

    var event: String? { json["event"]?.string }
    var payload: JSON { json["payload"] ?? .null }
    func header(_ name: String) -> String? { headers[name.lowercased()] }
  }

  private final class Inbox: Sendable {
    let deliveries = Mutex<[Delivery]>([])
  }

  let port: Int
  private let inbox = Inbox()
  private let group: ServiceGroup
  private let server: Task<Void, any Error>

  var url: String { "http://127.0.0.1:\(port)/hooks/waha" }
  var deliveries: [Delivery] { inbox.deliveries.withLock { $0 } }

  init() async throws {
    port = try freePort()
    let router = Router()
    router.post("hooks/:name") { [inbox] request, _ in
      let body = Data(try await request.body.collect(upTo: 1 << 20).readableBytesView)
      var headers: [String: String] = [:]
      for field in request.headers { headers[field.name.canonicalName] = field.value }
      let delivery = Delivery(
        path: request.uri.path, headers: headers, body: body, json: (try? JSON.parse(body)) ?? .null)
      inbox.deliveries.withLock { $0.append(delivery) }
      return Response(status: .ok)
    }
    router.get("ready") { _, _ in Response(status: .ok) }
    // Quiet: stopping the server at the end of a test is not worth a log line.
    var logger = Logger(label: "webhook-receiver")
    logger.logLevel = .critical
    let app = Application(
      router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
    // Run in a service group so that stopping is a graceful shutdown: cancelling the server while a
    // delivery is in flight traps in NIO's response writer.
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

  /// Waits until a delivery matching `match` has arrived and returns it.
  func first(
    _ what: String, within limit: Duration = .seconds(10), where match: (Delivery) -> Bool
  ) async throws -> Delivery {
    var found: Delivery?
    try await eventually(what, within: limit, every: .milliseconds(20)) {
      found = deliveries.first(where: match)
      return found != nil
    }
    return try #require(found)
  }
}
