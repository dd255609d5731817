import Docker
import Foundation
import Hummingbird
import HummingbirdCore
import JobCatalog
import JobContracts
import JobQueue
import Logging
import NIOCore
import OutboundHTTP
import Prometheus
import Store

/// `whago serve`: the HTTP front door where WHAGO's backend and its tenants submit work.
public enum EnqueuerServer {
  public struct Limits: Sendable {
    /// Largest body of one submission.
    public var maxBody = 1 << 20
    /// Largest body of a batch (up to 1,000 jobs).
    public var maxBatchBody = 16 << 20
    /// How long a checked key or tenant is remembered (see `KeyCache`).
    public var authCache: Duration = .seconds(5)
    /// The shared secret WAHA signs its webhooks with; without it every WAHA webhook is refused.
    public var wahaWebhookSecret: String?
    /// How the payment gateways' webhooks are verified.
    public var gatewayWebhooks = GatewayWebhookConfig()
    /// Which internal addresses a tenant's WAHA and webhook URLs may name (`WHAGO_OUTBOUND_ALLOW`);
    /// by default none. Workers check the address they connect to as well; this refuses at the door
    /// what is refused there anyway.
    public var outbound = AddressPolicy()
    /// A connection that sends nothing for this long is closed: without it (Hummingbird's default)
    /// a client holds a connection, and its memory, for as long as it likes.
    public var idleTimeout: Duration = .seconds(60)
    /// From a request's first byte, how long its head may take to arrive, and from then its body:
    /// a client that trickles bytes is never idle, so only these bound it (see `RequestDeadline`).
    public var headerTimeout: Duration = .seconds(10)
    public var bodyTimeout: Duration = .seconds(60)
    /// Connections open at once; past it new ones wait in the listen backlog until one closes (an
    /// idle one within `idleTimeout`), so no number of clients holds more than this much memory.
    public var maxConnections = 4096
    /// How long a dashboard login lasts, idle and at most.
    public var dashboardSessions = DashboardSessionLifetime()
    /// How failed dashboard logins are slowed.
    public var loginThrottle = LoginThrottle()
    /// The billing clock plan changes are quoted on: Redis time, or the workers' faster one in tests.
    public var clock: ScheduleClock = .redis
    /// Seals proxy passwords (WHAGO_SECRET_KEY); without it the proxy API refuses to add one.
    public var secretBox: SecretBox?
    /// Where tenants' WAHA containers are published, for chips whago connects itself.
    public var containers = ContainerSettings()
    /// The containers' Docker engine, for the dashboard's container actions.
    public var docker: DockerClient?
    public init() {}
  }

  public static func make(
    host: String, port: Int, broker: Broker, store: Store, catalog: JobCatalog, contracts: PayloadContracts = .all,
    metrics: PrometheusCollectorRegistry, limits: Limits = Limits(), logger: Logger,
    onListening: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
  ) -> some ApplicationProtocol {
    let router = Router(context: EnqueuerContext.self)
    let allowed = AllowedMethods()
    router.add(middleware: ProblemMiddleware(logger: logger, allowed: allowed))
    router.add(middleware: MetricsMiddleware())
    OperationsRoutes(
      broker: broker, store: store, metrics: metrics,
      scraped: ScrapeTimeMetrics(broker: broker, store: store, registry: metrics), logger: logger
    ).register(on: router)
    DashboardRoutes(
      broker: broker, store: store, catalog: catalog, authCache: limits.authCache, sessions: limits.dashboardSessions,
      throttle: limits.loginThrottle, secretBox: limits.secretBox, docker: limits.docker, logger: logger
    ).register(on: router)
    let v1 = router.group("v1").add(
      middleware: Authenticator(
        store: store, broker: broker, principals: .found(lifetime: limits.authCache),
        tenants: .found(lifetime: limits.authCache)))
    JobRoutes(broker: broker, submission: JobSubmission(catalog: catalog, contracts: contracts), limits: limits)
      .register(on: v1)
    ChipRoutes(store: store, broker: broker, catalog: catalog, limits: limits).register(on: v1)
    EventRoutes(store: store).register(on: v1)
    CreditRoutes(store: store).register(on: v1)
    CreditPurchaseRoutes(store: store, broker: broker, catalog: catalog, limits: limits).register(on: v1)
    WebhookEndpointRoutes(store: store, limits: limits).register(on: v1)
    MaturationRoutes(store: store, limits: limits).register(on: v1)
    SubscriptionRoutes(store: store, broker: broker, catalog: catalog, limits: limits).register(on: v1)
    CampaignRoutes(store: store, limits: limits, launcher: CampaignLauncher(broker: broker, catalog: catalog))
      .register(on: v1)
    CampaignResultRoutes(store: store).register(on: v1)
    OptOutRoutes(store: store, limits: limits).register(on: v1)
    ContactRoutes(store: store).register(on: v1)
    WAHAWebhookRoutes(store: store, secret: limits.wahaWebhookSecret, restarts: (broker, catalog)).register(on: router)
    GatewayWebhookRoutes(
      store: store, config: limits.gatewayWebhooks, launcher: CampaignLauncher(broker: broker, catalog: catalog)
    ).register(on: router)
    allowed.load(router.routes)
    let deadline = RequestDeadline(head: .init(limits.headerTimeout), body: .init(limits.bodyTimeout))
    return Application(
      router: router,
      server: .http1(
        configuration: .init(
          additionalChannelHandlers: deadline.handlers(), idleTimeout: .init(limits.idleTimeout))),
      configuration: .init(
        address: .hostname(host, port: port), serverName: "whago",
        availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections)),
      onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
      logger: logger)
  }
}

extension TimeAmount {
  init(_ duration: Duration) {
    let (seconds, attoseconds) = duration.components
    self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
  }
}
