/// `campaign.start`: turns a started (or due scheduled) campaign at `generation` into its senders.
public enum CampaignStartJob: JobContract {
  public static let type = "campaign.start"
  public struct Parameters: Codable, Sendable, Equatable {
    public var campaignId: Int64
    public var generation: Int
    public init(campaignId: Int64, generation: Int) {
      self.campaignId = campaignId
      self.generation = generation
    }
  }
}

/// `campaign.send`: one chip's sender for one generation of a campaign; a message per run, then
/// it snoozes for its human pause. `chip_id` also names the chip's rate-limit bucket.
public enum CampaignSendJob: JobContract {
  public static let type = "campaign.send"
  public struct Parameters: Codable, Sendable, Equatable {
    public var campaignId: Int64
    public var chipId: Int64
    public var generation: Int
    public init(campaignId: Int64, chipId: Int64, generation: Int) {
      self.campaignId = campaignId
      self.chipId = chipId
      self.generation = generation
    }
  }
}

/// `campaigns.sweep` (cron): launches campaigns whose start was committed but never enqueued.
public enum CampaignsSweepJob: JobContract {
  public static let type = "campaigns.sweep"
  public typealias Parameters = NoParameters
}
