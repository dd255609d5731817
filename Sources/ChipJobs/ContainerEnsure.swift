import JobContracts
import Store
import Worker

/// `container.ensure`: the tenant's container exists, runs and answers (the monitor enqueues it
/// for a container it found stopped).
public struct ContainerEnsure: JobHandler {
  public typealias Contract = ContainerEnsureJob

  let fleet: ContainerFleet

  public init(fleet: ContainerFleet) {
    self.fleet = fleet
  }

  public func run(_ parameters: ContainerEnsureJob.Parameters, context: JobContext) async throws {
    guard let container = try await fleet.store.container(tenantID: TenantID(parameters.tenantId)) else { return }
    try await fleet.ensure(container, logger: context.logger)
  }
}
