import Foundation
import JobQueue
import Logging
import Store
import Worker

/// `campaigns.sweep`, on a cron schedule: launches the campaigns that should be sending but whose
/// `campaign.start` was never enqueued, because the process that committed the command (a resume,
/// a credit pack, a paid invoice that lifted a suspension) died before it enqueued the start.
/// Launching a generation twice adds nothing, so the sweep and the command may race freely.
public struct CampaignSweep: JobHandler {
  public struct Parameters: Decodable, Sendable {}
  public static let type = "campaigns.sweep"

  let store: Store
  let launcher: CampaignLauncher

  public func run(_ parameters: Parameters, context: JobContext) async throws {
    let (found, enqueued) = try await launcher.launchUnlaunched(store: store)
    guard found > 0 else { return }
    context.logger.info(
      "campaigns swept", metadata: ["unlaunched": "\(found)", "starts enqueued": "\(enqueued)"])
  }
}
