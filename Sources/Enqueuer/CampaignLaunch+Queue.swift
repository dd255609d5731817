import CampaignStore
import JobContracts
import Store

extension CampaignLaunch {
  /// A launch the Store decided on, as the queue side takes it (JobContracts does not link Store).
  var launch: CampaignLauncher.Launch {
    CampaignLauncher.Launch(campaignID: campaignID, generation: generation, tenant: tenant, startAt: startAt)
  }
}
