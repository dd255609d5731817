import JobContracts
import Logging
import Store
import WAHA
import Worker

/// `chip.release`: logs a deleted chip's session out of WhatsApp and deletes it from its tenant's
/// container (WAHA's DELETE does both and is idempotent), so the phone is unlinked and the slot
/// freed. The proxy id went with the chip's row.
public struct ChipRelease: JobHandler {
  public typealias Contract = ChipReleaseJob

  let fleet: ContainerFleet

  public init(fleet: ContainerFleet) {
    self.fleet = fleet
  }

  public func run(_ parameters: ChipReleaseJob.Parameters, context: JobContext) async throws {
    guard let container = try await fleet.store.container(tenantID: TenantID(parameters.tenantId)) else { return }
    try await fleet.client(container).deleteSession(parameters.session)
    context.logger.info("chip session deleted", metadata: ["session": "\(parameters.session)"])
  }
}
