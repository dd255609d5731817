import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// An in-process HTTP server that keeps every webhook it is sent (path, query, headers, raw body),
/// so a test can check what arrived and verify a signature over exactly those bytes. The
/// simulators' tests point `--webhook-url` at `url(_:)`.
public final class WebhookReceiver: Sendable {
  public struct Delivery: Sendable {
    public var path: String
    public var query: [String: String]
    /// Names in lower case, as `HTTPField.Name.canonicalName` gives them.
    public var headers: [String: String]
    public var body: Data

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
  }

  private final class Inbox: Sendable {
    let deliveries = Mutex<[Delivery]>([])
  }

  public let port: Int
  private let inbox = Inbox()
  private let group: ServiceGroup
  private let server: Task<Void, any Error>

  /// Where to send webhooks; `name` only labels the path deliveries arrive on.
  public func url(_ name: String) -> String { "http://127.0.0.1:\(port)/hooks/\(name)" }
  public var deliveries: [Delivery] { inbox.deliveries.withLock { $0 } }

  public init() async throws {
    port = try freePort()
    let router = Router()
    router.post("hooks/:name") { [inbox] request, _ in
      let body = Data(try await request.body.collect(upTo: 1 << 20).readableBytesView)
      var headers: [String: String] = [:]
      for field in request.headers { headers[field.name.canonicalName] = field.value }
      var query: [String: String] = [:]
      for (name, value) in request.uri.queryParameters { query[String(name)] = String(value) }
      inbox.deliveries.withLock {
        $0.append(Delivery(path: request.uri.path, query: query, headers: headers, body: body))
      }
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

  public func stop() async {
    await group.triggerGracefulShutdown()
    _ = await server.result
  }

  /// Waits until a delivery matching `match` has arrived and returns it.
  public func first(
    _ what: String, within limit: Duration = .seconds(30), where match: (Delivery) -> Bool
  ) async throws -> Delivery {
    var found: Delivery?
    try await eventually(what, within: limit, every: .milliseconds(20)) {
      found = deliveries.first(where: match)
      return found != nil
    }
    guard let found else { throw TestSetupError("no delivery: \(what)") }
    return found
  }
}
