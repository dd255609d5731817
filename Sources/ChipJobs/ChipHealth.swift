import Foundation
import JobContracts
import JobQueue
import Logging
import OutboundHTTP
import Store
import WAHA
import Worker

/// `chips.health`, on a one-minute cron schedule: asks each chip's WAHA for its session and
/// records the status (and when a chip stopped working), so campaigns pick only WORKING chips
/// even when a `session.status` webhook was lost.
public struct ChipHealth: JobHandler {
  public typealias Contract = ChipsHealthJob

  let store: Store
  let http: HTTPClient
  /// Sessions asked at once.
  let parallel: Int
  /// Checks in a row that cannot reach a chip's WAHA before the tenant hears of it: three minutes
  /// at the cron's pace, past a restart of WAHA's container.
  let unreachableAfter: Int

  public init(store: Store, http: HTTPClient, parallel: Int = 16, unreachableAfter: Int = 3) {
    self.store = store
    self.http = http
    self.parallel = parallel
    self.unreachableAfter = unreachableAfter
  }

  public func run(_ parameters: ChipsHealthJob.Parameters, context: JobContext) async throws {
    let chips = try await store.chipEndpoints()
    var checked = 0
    var unreachable = 0
    try await withThrowingTaskGroup(of: Bool.self) { group in
      var next = chips.makeIterator()
      func addNext() {
        guard let chip = next.next() else { return }
        group.addTask { try await check(chip) }
      }
      for _ in 0..<parallel { addNext() }
      while let reached = try await group.next() {
        checked += 1
        if !reached { unreachable += 1 }
        addNext()
      }
    }
    context.logger.info("chips checked", metadata: ["chips": "\(checked)", "unreachable": "\(unreachable)"])
  }

  /// Returns whether WAHA answered. A WAHA that is down leaves the last known status in place and
  /// counts one more unreachable check: the third in a row tells the tenant (`chip.unreachable`).
  private func check(_ chip: ChipEndpoint) async throws -> Bool {
    let waha = WAHAClient(baseURL: chip.wahaURL, apiKey: chip.wahaAPIKey, http: http, timeout: .seconds(10))
    let status: ChipStatus
    do {
      status = ChipStatus(reported: try await waha.session(chip.session).status)
    } catch .sessionNotFound, .unauthorized {
      // No such session, or a key WAHA refuses: the chip cannot send until someone fixes it.
      status = .failed
    } catch {
      try await store.recordChipUnreachable(id: chip.id, error: "\(error)", threshold: unreachableAfter)
      return false
    }
    try await store.recordChipStatus(id: chip.id, status: status)
    return true
  }
}

/// The job types that need PostgreSQL and outbound HTTP, registered by workers that have them.
public enum ChipJobs {
  public static func register(in registry: inout HandlerRegistry, store: Store, http: HTTPClient) {
    registry.register(ChipHealth(store: store, http: http))
  }
}
