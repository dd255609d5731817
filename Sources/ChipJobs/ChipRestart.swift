import Foundation
import JobContracts
import Logging
import Store
import WAHA
import Worker

/// `chip.restart`: WAHA's cure for a wedged session is a restart, so a FAILED session of a chip
/// whago runs gets one, then a look after a growing wait (20 s, 40 s, 80 s), and another restart
/// if it is still FAILED. After `maxAttempts` the chip is marked `needs_attention` with an event
/// and left alone: a restart loop would not cure a ban or a broken phone. A chip that asks for a
/// QR code again (logged out by WhatsApp) is not restarted either: it needs its phone.
public struct ChipRestart: JobHandler {
  public typealias Contract = ChipRestartJob

  let fleet: ContainerFleet
  let maxAttempts: Int
  let firstWait: Duration

  public init(fleet: ContainerFleet, maxAttempts: Int = 3, firstWait: Duration = .seconds(20)) {
    self.fleet = fleet
    self.maxAttempts = maxAttempts
    self.firstWait = firstWait
  }

  public func run(_ parameters: ChipRestartJob.Parameters, context: JobContext) async throws {
    let decision = try await fleet.store.beginChipRestart(chipID: parameters.chipId, maxAttempts: maxAttempts)
    guard case .restart(let attempt, let session, let containerID) = decision else {
      if decision == .needsAttention {
        context.logger.warning("chip stays FAILED after its restarts", metadata: ["chip": "\(parameters.chipId)"])
      }
      return
    }
    guard let container = try await fleet.store.container(id: containerID) else { return }
    do {
      try await fleet.client(container).restart(session)
    } catch {
      guard case .sessionNotFound = error else { throw error }
      // WAHA lost the session (its container was recreated without its data): a restart cannot
      // help; the session is created again and asks for its phone.
      context.logger.warning(
        "chip session is gone from WAHA; creating it again", metadata: ["chip": "\(parameters.chipId)"])
      try await ChipProvision(fleet: fleet).provision(chipID: parameters.chipId, rotate: false, logger: context.logger)
      return
    }
    context.logger.info(
      "chip session restarted", metadata: ["chip": "\(parameters.chipId)", "attempt": "\(attempt)"])
    // Look again later: still FAILED means another restart, or, past the last, attention.
    throw Snooze(for: firstWait * (1 << (attempt - 1)))
  }
}
