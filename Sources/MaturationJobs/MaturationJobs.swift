import Foundation
import JobCatalog
import JobContracts
import JobQueue
import Maturation
import OutboundHTTP
import Store
import Worker

/// The maturation job types, registered by workers that have PostgreSQL and outbound HTTP.
public enum MaturationJobs {
  public static func register(
    in registry: inout HandlerRegistry, store: Store, http: HTTPClient, catalog: JobCatalog, clock: ScheduleClock,
    phrases: PhraseBank, wahaTimeout: Duration = .seconds(15)
  ) {
    registry.register(MaturationTick(store: store, catalog: catalog, clock: clock, phrases: phrases))
    registry.register(MaturationExchange(store: store, http: http, clock: clock, wahaTimeout: wahaTimeout))
  }
}
