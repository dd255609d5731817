import Foundation
import JobCatalog
import JobContracts
import JobQueue
import Logging
import OutboundHTTP
import Store
import WAHA
import Worker

/// `chips.health`, on a one-minute cron schedule: enqueues one `chip.check` per chip, so campaigns
/// pick only WORKING chips even when a `session.status` webhook was lost. Each check is a job of
/// its own with its own timeout: one tenant's slow WAHA cannot use up a shared run and leave the
/// other tenants' chips unchecked. A check's key holds for 50 s, so a schedule that fires twice
/// in a minute checks each chip once.
public struct ChipHealth: JobHandler {
  public typealias Contract = ChipsHealthJob

  let store: Store
  let catalog: JobCatalog

  public init(store: Store, catalog: JobCatalog) {
    self.store = store
    self.catalog = catalog
  }

  public func run(_ parameters: ChipsHealthJob.Parameters, context: JobContext) async throws {
    let ids = try await store.chipIDs()
    let specs = try ids.map { id in
      try ChipCheckJob.spec(.init(chipId: id), catalog: catalog, key: "chip-check:\(id)")
    }
    for chunk in stride(from: 0, to: specs.count, by: 1000) {
      _ = try await context.broker.enqueue(Array(specs[chunk..<min(chunk + 1000, specs.count)]))
    }
    // Chips whago runs: a FAILED one is restarted, a stalled connection is taken up again. Both
    // jobs hold their key while they live, so a tick never starts a second one. A catalog without
    // those job types (a deployment of tenants' own WAHA only) leaves them out.
    var recovery: [JobSpec] = []
    guard (try? catalog.policy(for: ChipRestartJob.type)) != nil,
      (try? catalog.policy(for: ChipProvisionJob.type)) != nil
    else {
      context.logger.info("chip checks enqueued", metadata: ["chips": "\(ids.count)"])
      return
    }
    for id in try await store.failedManagedChips() {
      recovery.append(
        try ChipRestartJob.spec(.init(chipId: id), catalog: catalog, key: "chip-restart:\(id)", keyHeldWhileAlive: true)
      )
    }
    for id in try await store.stalledProvisioning() {
      recovery.append(
        try ChipProvisionJob.spec(
          .init(chipId: id), catalog: catalog, key: "chip-provision:\(id)", keyHeldWhileAlive: true))
    }
    if !recovery.isEmpty { _ = try await context.broker.enqueue(recovery) }
    context.logger.info(
      "chip checks enqueued", metadata: ["chips": "\(ids.count)", "recoveries": "\(recovery.count)"])
  }
}

/// `chip.check`: asks one chip's WAHA for its session and records the status (and when the chip
/// stopped working).
public struct ChipCheck: JobHandler {
  public typealias Contract = ChipCheckJob

  let store: Store
  let http: HTTPClient
  /// Checks in a row that cannot reach a chip's WAHA before the tenant hears of it: three minutes
  /// at the cron's pace, past a restart of WAHA's container.
  let unreachableAfter: Int
  /// How long WAHA has to answer; the job's own timeout in the catalog is a little longer.
  let timeout: Duration

  public init(store: Store, http: HTTPClient, unreachableAfter: Int = 3, timeout: Duration = .seconds(10)) {
    self.store = store
    self.http = http
    self.unreachableAfter = unreachableAfter
    self.timeout = timeout
  }

  /// A WAHA that is down leaves the last known status in place and counts one more unreachable
  /// check: the third in a row tells the tenant (`chip.unreachable`).
  public func run(_ parameters: ChipCheckJob.Parameters, context: JobContext) async throws {
    guard let chip = try await store.chipEndpoint(id: parameters.chipId) else { return }  // removed meanwhile
    // A chip whago is still connecting has no session yet: chip.provision reports on it.
    if chip.provisioning { return }
    let waha = WAHAClient(
      baseURL: chip.wahaURL, apiKey: chip.wahaAPIKey, http: http, timeout: timeout, ownContainer: chip.managed)
    let status: ChipStatus
    do {
      status = ChipStatus(reported: try await waha.session(chip.session).status)
    } catch .sessionNotFound, .unauthorized {
      // No such session, or a key WAHA refuses: the chip cannot send until someone fixes it.
      status = .failed
    } catch {
      try await store.recordChipUnreachable(id: chip.id, error: "\(error)", threshold: unreachableAfter)
      return
    }
    try await store.recordChipStatus(id: chip.id, status: status)
  }
}

/// The job types that need PostgreSQL and outbound HTTP, registered by workers that have them.
public enum ChipJobs {
  /// `fleet` connects chips whago runs itself (Docker and the containers' WAHA).
  public static func register(
    in registry: inout HandlerRegistry, store: Store, http: HTTPClient, catalog: JobCatalog, fleet: ContainerFleet,
    restartWait: Duration = .seconds(20)
  ) {
    var thresholds = ContainerMonitor.Thresholds()
    thresholds.stoppedFor = fleet.settings.stoppedAlertAfter
    registry.register(ChipHealth(store: store, catalog: catalog))
    registry.register(ChipCheck(store: store, http: http))
    registry.register(ChipProvision(fleet: fleet))
    registry.register(ContainerEnsure(fleet: fleet))
    registry.register(ChipRelease(fleet: fleet))
    registry.register(ChipRestart(fleet: fleet, firstWait: restartWait))
    registry.register(ContainerMonitor(fleet: fleet, catalog: catalog, thresholds: thresholds))
  }
}
