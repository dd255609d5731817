import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Wire

/// `whago sim payments`: Stripe, Mercado Pago and PayPal on one port, at the gateways' own paths,
/// so the billing job and its tests charge cards end to end without a sandbox account, meet every
/// outcome on demand, and can check that a retry never charges twice (`GET /_sim/charges`).
public enum PaymentsSimServer {
  public struct Configuration: Sendable {
    public var host = "127.0.0.1"
    public var port = 4000
    /// The secret key Stripe requests must carry (`Authorization: Bearer`).
    public var stripeKey = "sk_test_sim"
    /// The access token Mercado Pago requests must carry.
    public var mercadoPagoToken = "TEST-sim"
    /// PayPal's client credentials for `/v1/oauth2/token`; the secret also signs simulated webhooks.
    public var paypalClientID = "sim"
    public var paypalClientSecret = "sim"
    /// The webhook id PayPal's signature check accepts.
    public var paypalWebhookID = "WH-SIM"
    /// Where Mercado Pago subscription payments are announced, with the secret that signs them.
    public var webhookURL: URL?
    public var mercadoPagoWebhookSecret: String?
    public var settings = PaymentsSimSettings()
    public init() {}
  }

  /// The HTTP server and the webhook poster, to run in one service group.
  /// `onListening` is told the port the server bound (the one asked for, or the kernel's choice for 0).
  public static func services(
    _ configuration: Configuration, logger: Logger,
    onListening: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
  ) -> [any Service] {
    var initial = configuration.settings
    if let url = configuration.webhookURL { initial.webhookURL = url.absoluteString }
    let settings = LiveSettings(initial)
    let log = ChargeLog()
    let flow = ChargeFlow(keys: IdempotencyKeys(), log: log, settings: settings)
    let book = MercadoPagoBook()
    let poster = WebhookPoster(logger: logger)

    let router = Router()
    router.get("ping") { _, _ in GatewayReply(code: 200, body: ["message": "pong"]).response() }
    ControlRoutes(settings: settings, log: log).register(on: router)
    StripeRoutes(secretKey: configuration.stripeKey, flow: flow, intents: StripeIntents()).register(on: router)
    let notifier = MercadoPagoNotifier(
      book: book, poster: poster, settings: settings, webhookSecret: configuration.mercadoPagoWebhookSecret)
    MercadoPagoRoutes(accessToken: configuration.mercadoPagoToken, flow: flow, book: book).register(on: router)
    MercadoPagoPix(book: book, log: log, notifier: notifier).register(on: router)
    MercadoPagoPreapproval(
      accessToken: configuration.mercadoPagoToken, book: book, log: log, flow: flow, notifier: notifier
    ).register(on: router)
    let payPalTokens = PayPalTokens()
    PayPalRoutes(
      clientID: configuration.paypalClientID, clientSecret: configuration.paypalClientSecret, tokens: payPalTokens,
      signer: PayPalSigner(secret: configuration.paypalClientSecret, webhookID: configuration.paypalWebhookID),
      flow: flow
    ).register(on: router)
    PayPalSubscriptions(tokens: payPalTokens).register(on: router)

    let app = Application(
      router: router,
      configuration: .init(
        address: .hostname(configuration.host, port: configuration.port), serverName: "payments-sim"),
      onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.port) },
      logger: logger)
    return [poster, app]
  }
}
