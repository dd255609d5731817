import JobCatalog
import JobContracts
import JobQueue
import OutboundHTTP
import Store
import Worker

/// The campaign job types, registered by workers that have PostgreSQL and outbound HTTP.
public enum CampaignJobs {
  public static func register(
    in registry: inout HandlerRegistry, store: Store, http: HTTPClient, launcher: CampaignLauncher,
    wahaTimeout: Duration = .seconds(15), chipRecheck: Duration = .seconds(30)
  ) {
    registry.register(CampaignStart(store: store, launcher: launcher))
    registry.register(CampaignSweep(store: store, launcher: launcher))
    registry.register(CampaignSend(store: store, http: http, wahaTimeout: wahaTimeout, chipRecheck: chipRecheck))
  }
}
