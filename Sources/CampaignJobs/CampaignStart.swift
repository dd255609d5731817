import Foundation
import JobQueue
import Logging
import Store
import Worker

/// `campaign.start`: turns a started (or due scheduled) campaign into its senders, one
/// `campaign.send` job per chip. The recipients are rows already, so nothing here grows with the
/// list: a 100,000-recipient campaign is as many jobs as it has chips.
public struct CampaignStart: JobHandler {
  public struct Parameters: Decodable, Sendable {
    var campaign_id: Int64
    var generation: Int
  }
  public static let type = CampaignLauncher.startType

  let store: Store
  let launcher: CampaignLauncher

  public func run(_ parameters: Parameters, context: JobContext) async throws {
    guard
      let start = try await store.beginCampaign(campaignID: parameters.campaign_id, generation: parameters.generation)
    else {
      context.logger.info("campaign was paused, cancelled or relaunched; nothing to start")
      return
    }
    try await launcher.launchSenders(
      campaignID: parameters.campaign_id, generation: parameters.generation, tenant: start.tenant,
      chipIDs: start.chipIDs)
    context.logger.info(
      "campaign started", metadata: ["campaign": "\(parameters.campaign_id)", "chips": "\(start.chipIDs.count)"])
  }
}
