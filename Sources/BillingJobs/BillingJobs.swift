import JobCatalog
import JobContracts
import JobQueue
import Store
import Worker

/// The billing job types, registered by workers that have PostgreSQL and outbound HTTP.
public enum BillingJobs {
  public static func register(
    in registry: inout HandlerRegistry, store: Store, gateways: BillingGateways, catalog: JobCatalog,
    clock: ScheduleClock
  ) {
    registry.register(BillingSweep(store: store, catalog: catalog, clock: clock))
    registry.register(BillingRenew(store: store, gateways: gateways, catalog: catalog, clock: clock))
    registry.register(BillingProrate(store: store, gateways: gateways, clock: clock))
    registry.register(BillingReconcile(store: store, gateways: gateways))
    registry.register(CreditPurchaseCharge(store: store, gateways: gateways, catalog: catalog))
  }
}
