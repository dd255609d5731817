import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Wire

/// `whago sim waha`: WAHA's REST API and webhooks, simulated so the demo and the tests run campaigns
/// end to end without WhatsApp, and can inject the faults a real gateway has.
public enum WAHASimServer {
  public struct Configuration: Sendable {
    public var host = "127.0.0.1"
    public var port = 3000
    /// `X-Api-Key` every `/api` request must carry; nil: none asked.
    public var apiKey: String?
    /// Where events go for sessions that name no webhook of their own.
    public var webhookURL: URL?
    /// Signs the webhooks to `webhookURL` (`X-Webhook-Hmac`).
    public var webhookSecret: String?
    /// Sessions that exist, WORKING, from the start.
    public var sessions: [String] = ["default"]
    public var settings = SimSettings()
    public init() {}
  }

  /// The HTTP server and the background work (delayed transitions, acks, webhook deliveries), to run
  /// in one service group.
  /// `onListening` is told the port the server bound (the one asked for, or the kernel's choice for 0).
  public static func services(
    _ configuration: Configuration, logger: Logger,
    onListening: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
  ) -> [any Service] {
    let work = BackgroundWork()
    let store = SimStore(
      settings: configuration.settings,
      defaultWebhook: configuration.webhookURL.map { WebhookTarget(url: $0, secret: configuration.webhookSecret) },
      workingSessions: configuration.sessions)
    let simulator = Simulator(store: store, webhooks: WebhookSender(work: work, logger: logger))

    let router = Router()
    router.get("ping") { _, _ in Exchange.json(["message": "pong"]) }
    router.get("health") { _, _ in Exchange.json(["status": "ok"]) }
    ControlRoutes(simulator: simulator).register(on: router)
    let api = router.group("api")
    if let key = configuration.apiKey { api.add(middleware: APIKeyCheck(key: key)) }
    api.add(middleware: FaultInjection(store: store))
    SessionRoutes(simulator: simulator).register(on: api)
    AuthRoutes(simulator: simulator).register(on: api)
    SendingRoutes(simulator: simulator).register(on: api)
    ChatRoutes(simulator: simulator).register(on: api)

    let app = Application(
      router: router,
      configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "waha-sim"),
      onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.port) },
      logger: logger)
    return [work, app]
  }
}
