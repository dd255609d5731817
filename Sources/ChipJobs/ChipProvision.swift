import Foundation
import JobContracts
import Logging
import Store
import WAHA
import Worker

/// `chip.provision`: connects a chip in three steps, each asked before it is done, so a run cut
/// anywhere (a crash, a timeout, a second run) ends in the same state: the tenant's container
/// runs, the chip has its proxy, and WAHA has the session `chip_<uuid>` with that proxy, our
/// webhook and its key. The step reached and the last error are on the chip, for
/// `GET /v1/chips/{id}`. A session that exists is success (WAHA's 422 "already exists" too).
public struct ChipProvision: JobHandler {
  public typealias Contract = ChipProvisionJob

  let fleet: ContainerFleet

  public init(fleet: ContainerFleet) {
    self.fleet = fleet
  }

  public func run(_ parameters: ChipProvisionJob.Parameters, context: JobContext) async throws {
    let store = fleet.store
    guard let chip = try await store.chipProvisioning(chipID: parameters.chipId) else { return }  // deleted meanwhile
    do {
      try await fleet.ensure(chip.container, logger: context.logger)
      try await store.recordProvisioning(chipID: chip.chipID, step: "proxy")
      try await store.assignProxy(chipID: chip.chipID)
      try await store.recordProvisioning(chipID: chip.chipID, step: "session")
      let status = try await ensureSession(chip, rotate: parameters.rotate == true, logger: context.logger)
      try await store.recordProvisioning(chipID: chip.chipID, step: "done")
      try await store.recordChipStatus(id: chip.chipID, status: status)
    } catch {
      try? await store.recordProvisioning(chipID: chip.chipID, error: "\(error)")
      throw error
    }
  }

  /// The session's configuration: the proxy, our webhook with the chip's key, and metadata that
  /// names the chip in every webhook WAHA sends.
  func config(_ chip: ChipProvisioning) async throws -> SessionConfig {
    guard let box = fleet.settings.secretBox else { throw SecretBoxError.missingKey }
    guard let proxy = try await fleet.store.proxySession(chipID: chip.chipID, box: box) else {
      throw ProxyError.poolEmpty
    }
    var webhooks: [SessionWebhook] = []
    if let hook = fleet.settings.webhook(chip: chip.chipID) {
      webhooks.append(SessionWebhook(url: hook.url, events: WAHAWebhookKey.events, hmacKey: hook.hmacKey))
    }
    return SessionConfig(
      proxy: SessionProxy(server: proxy.server, username: proxy.username, password: proxy.password),
      metadata: ["whago.chip_id": "\(chip.chipID)", "whago.tenant_id": "\(chip.tenantID.rawValue)"],
      webhooks: webhooks)
  }

  func ensureSession(_ chip: ChipProvisioning, rotate: Bool, logger: Logger) async throws -> ChipStatus {
    let waha = fleet.client(chip.container)
    let config = try await config(chip)
    do {
      let existing = try await waha.session(chip.session)
      if rotate {
        try await waha.updateSession(name: chip.session, config: config)
        try await waha.restart(chip.session)
        logger.info("chip session restarted on a new proxy id", metadata: ["chip": "\(chip.chipID)"])
        return .starting
      }
      return ChipStatus(reported: existing.status)
    } catch .sessionNotFound {
      do {
        try await waha.createSession(name: chip.session, config: config, start: true)
        logger.info("chip session created", metadata: ["chip": "\(chip.chipID)", "session": "\(chip.session)"])
      } catch .sessionExists {
        // Created by a run that did not live to record it.
      }
      return ChipStatus(reported: try await waha.session(chip.session).status)
    }
  }
}

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
