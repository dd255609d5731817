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

  private let inbox = Inbox()
  private let server: InProcessServer

  public var port: Int { server.port }
  /// Where to send webhooks; `name` only labels the path deliveries arrive on.
  public func url(_ name: String) -> String { "http://127.0.0.1:\(port)/hooks/\(name)" }
  public var deliveries: [Delivery] { inbox.deliveries.withLock { $0 } }

  public init() async throws {
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
    server = try await InProcessServer(router: router, label: "webhook-receiver")
  }

  public func stop() async {
    await server.stop()
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
