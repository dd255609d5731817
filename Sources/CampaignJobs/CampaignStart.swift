import CampaignStore
import Foundation
import JobContracts
import JobQueue
import Logging
import Store
import Worker

/// `campaign.start`: turns a started (or due scheduled) campaign into its senders, one
/// `campaign.send` job per chip. The recipients are rows already, so nothing here grows with the
/// list: a 100,000-recipient campaign is as many jobs as it has chips.
public struct CampaignStart: JobHandler {
  public typealias Contract = CampaignStartJob

  let store: Store
  let launcher: CampaignLauncher

  public func run(_ parameters: CampaignStartJob.Parameters, context: JobContext) async throws {
    guard
      let start = try await store.beginCampaign(campaignID: parameters.campaignId, generation: parameters.generation)
    else {
      context.logger.info("campaign was paused, cancelled or relaunched; nothing to start")
      return
    }
    try await launcher.launchSenders(
      campaignID: parameters.campaignId, generation: parameters.generation, tenant: start.tenant,
      chipIDs: start.chipIDs)
    context.logger.info(
      "campaign started", metadata: ["campaign": "\(parameters.campaignId)", "chips": "\(start.chipIDs.count)"])
  }
}
