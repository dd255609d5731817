import JobCatalog
import JobContracts
import OutboundHTTP
import Store

/// Outbound webhooks: the dispatcher that turns events into deliveries and the delivery itself.
public enum WebhookJobs {
  public static func register(
    in registry: inout HandlerRegistry, store: Store, http: HTTPClient, catalog: JobCatalog,
    timeout: Duration = .seconds(10)
  ) {
    registry.register(WebhookDispatch(store: store, catalog: catalog))
    registry.register(WebhookDeliver(store: store, http: http, timeout: timeout))
  }
}
