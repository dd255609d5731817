import CampaignStore
import Foundation
import JobContracts
import JobQueue
import Logging
import Store
import Worker

/// `campaigns.sweep`, on a cron schedule: launches the campaigns that should be sending but whose
/// `campaign.start` was never enqueued, because the process that committed the command (a resume,
/// a credit pack, a paid invoice that lifted a suspension) died before it enqueued the start.
/// Launching a generation twice adds nothing, so the sweep and the command may race freely.
public struct CampaignSweep: JobHandler {
  public typealias Contract = CampaignsSweepJob

  let store: Store
  let launcher: CampaignLauncher

  public func run(_ parameters: CampaignsSweepJob.Parameters, context: JobContext) async throws {
    let unlaunched = try await store.unlaunchedCampaigns()
    guard !unlaunched.isEmpty else { return }
    let enqueued = try await launcher.launch(unlaunched.map(\.launch))
    context.logger.info(
      "campaigns swept", metadata: ["unlaunched": "\(unlaunched.count)", "starts enqueued": "\(enqueued)"])
  }
}

extension CampaignLaunch {
  /// The launch the queue side knows (JobContracts does not depend on Store).
  public var launch: CampaignLauncher.Launch {
    CampaignLauncher.Launch(campaignID: campaignID, generation: generation, tenant: tenant, startAt: startAt)
  }
}
