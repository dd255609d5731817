import Docker
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
    try await provision(chipID: parameters.chipId, rotate: parameters.rotate == true, logger: context.logger)
  }

  /// The three steps, for `chip.provision` and for `chip.restart` when the session is gone from
  /// WAHA (a container recreated without its data).
  func provision(chipID: Int64, rotate: Bool, logger: Logger) async throws {
    let store = fleet.store
    guard let chip = try await store.chipProvisioning(chipID: chipID) else { return }  // deleted meanwhile
    do {
      try await fleet.ensure(chip.container, logger: logger)
      try await store.recordProvisioning(chipID: chip.chipID, step: "proxy")
      try await store.assignProxy(chipID: chip.chipID)
      try await store.recordProvisioning(chipID: chip.chipID, step: "session")
      let status = try await ensureSession(chip, rotate: rotate, logger: logger)
      try await store.recordProvisioning(chipID: chip.chipID, step: "done")
      try await store.recordChipStatus(id: chip.chipID, status: status)
    } catch {
      // The tenant reads `last_error`: what happened in its terms; the operator's detail (Docker's
      // message, addresses) goes to the worker's log.
      logger.warning("chip provisioning step failed", metadata: ["chip": "\(chipID)", "error": "\(error)"])
      try? await store.recordProvisioning(chipID: chip.chipID, error: Self.tenantMessage(error))
      throw error
    }
  }

  /// Creates the session; false when WAHA says it exists already.
  func create(_ waha: WAHAClient, _ chip: ChipProvisioning, _ config: SessionConfig, logger: Logger)
    async throws(WAHAError) -> Bool
  {
    do {
      try await waha.createSession(name: chip.session, config: config, start: true)
    } catch {
      guard case .sessionExists = error else { throw error }
      return false
    }
    logger.info("chip session created", metadata: ["chip": "\(chip.chipID)", "session": "\(chip.session)"])
    return true
  }

  static func tenantMessage(_ error: any Error) -> String {
    switch error {
    case is DockerError, is ContainerNotReady:
      "the WhatsApp server for your numbers is starting or could not be started; it is retried automatically"
    case ProxyError.poolEmpty:
      "no proxy is available for the number yet; WHAGO's operators must add one, then it continues by itself"
    case is SecretBoxError:
      "the number's proxy cannot be opened on this server; WHAGO's operators must fix its configuration"
    case let error as WAHAError where error.isTransient:
      "the WhatsApp server did not answer; it is retried automatically"
    case let error as WAHAError: "the WhatsApp server refused the session: \(error)"
    default: "connecting the number failed; it is retried automatically"
    }
  }

  /// The session's configuration: the proxy, our webhook with the chip's key, and metadata that
  /// names the chip in every webhook WAHA sends. Returns the proxy id it holds.
  func config(_ chip: ChipProvisioning) async throws -> (SessionConfig, String) {
    guard let box = fleet.settings.secretBox else { throw SecretBoxError.missingKey }
    guard let proxy = try await fleet.store.proxySession(chipID: chip.chipID, box: box) else {
      throw ProxyError.poolEmpty
    }
    var webhooks: [SessionWebhook] = []
    if let hook = fleet.settings.webhook(chip: chip.chipID) {
      webhooks.append(SessionWebhook(url: hook.url, events: WAHAWebhookKey.events, hmacKey: hook.hmacKey))
    }
    let config = SessionConfig(
      proxy: SessionProxy(server: proxy.server, username: proxy.username, password: proxy.password),
      metadata: ["whago_chip_id": "\(chip.chipID)", "whago_tenant_id": "\(chip.tenantID.rawValue)"],
      webhooks: webhooks)
    return (config, proxy.username)
  }

  /// The session exists with the chip's current proxy, and runs. A session that exists with
  /// another proxy username (a rotation, or one written by a run that was cut) is updated and
  /// restarted. The chip's proxy id may change while this runs (rotate-proxy): it is read again
  /// at the end, and a change is applied before returning, so no rotation is lost.
  func ensureSession(_ chip: ChipProvisioning, rotate: Bool, logger: Logger) async throws -> ChipStatus {
    let waha = fleet.client(chip.container)
    var forceRestart = rotate
    for _ in 0..<3 {
      let (config, username) = try await config(chip)
      var status: ChipStatus
      do {
        let existing = try await waha.session(chip.session)
        status = ChipStatus(reported: existing.status)
        if forceRestart || existing.config?.proxy?.username != username {
          try await waha.updateSession(name: chip.session, config: config)
          try await waha.restart(chip.session)
          logger.info("chip session restarted on its current proxy id", metadata: ["chip": "\(chip.chipID)"])
          status = .starting
        } else if status == .stopped {
          try await waha.start(chip.session)
          status = .starting
        }
      } catch {
        guard case .sessionNotFound = error else { throw error }
        if try await create(waha, chip, config, logger: logger) == false {
          // Created by a run that did not live to record it; the next round compares its proxy.
          forceRestart = false
          continue
        }
        status = ChipStatus(reported: try await waha.session(chip.session).status)
      }
      guard let box = fleet.settings.secretBox,
        let now = try await fleet.store.proxySession(chipID: chip.chipID, box: box), now.username != username
      else { return status }
      forceRestart = true  // rotated meanwhile: apply the new id
    }
    return ChipStatus(reported: try await waha.session(chip.session).status)
  }
}
