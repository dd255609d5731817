import Foundation
import JobCatalog
import JobQueue

/// Puts a campaign's work on the queue: one `campaign.start` per generation (at the scheduled time
/// for a campaign that starts later), which then launches one `campaign.send` per chip. Keys are
/// per campaign and generation, so asking twice (a retried HTTP call, a relaunch after a lost
/// enqueue, the sweep) never makes two.
public struct CampaignLauncher: Sendable {
  let broker: Broker
  let catalog: JobCatalog

  public init(broker: Broker, catalog: JobCatalog) {
    self.broker = broker
    self.catalog = catalog
  }

  /// Enqueues the campaign's `campaign.start` for `generation`; false when that job was enqueued
  /// before (within the key's window), which is how a repeated launch adds nothing.
  @discardableResult
  public func launch(campaignID: Int64, generation: Int, tenant: String, startAt: Date? = nil) async throws -> Bool {
    let when: JobSpec.When =
      startAt.map { .at(epochMilliseconds: Int64(($0.timeIntervalSince1970 * 1000).rounded())) } ?? .now
    return try await !broker.enqueue(
      CampaignStartJob.spec(
        .init(campaignId: campaignID, generation: generation), catalog: catalog, when: when,
        key: "campaign:\(campaignID):start:\(generation)", tenant: tenant)
    ).duplicate
  }

  /// A campaign generation to launch.
  public struct Launch: Sendable, Equatable {
    public var campaignID: Int64
    public var generation: Int
    public var tenant: String
    /// When a scheduled campaign starts; nil: now.
    public var startAt: Date?
    public init(campaignID: Int64, generation: Int, tenant: String, startAt: Date? = nil) {
      self.campaignID = campaignID
      self.generation = generation
      self.tenant = tenant
      self.startAt = startAt
    }
  }

  /// Launches each; returns how many starts were new (the others were on the queue already).
  @discardableResult
  public func launch(_ launches: [Launch]) async throws -> Int {
    var enqueued = 0
    for launch in launches
    where try await self.launch(
      campaignID: launch.campaignID, generation: launch.generation, tenant: launch.tenant, startAt: launch.startAt)
    {
      enqueued += 1
    }
    return enqueued
  }

  /// One sender job per chip of the campaign, for this generation: its key is held for as long as
  /// the sender lives (it snoozes between messages, for days over a weekend), so asking again,
  /// however much later, never makes a second sender for a chip while the first one lives.
  public func launchSenders(campaignID: Int64, generation: Int, tenant: String, chipIDs: [Int64]) async throws {
    _ = try await broker.enqueue(
      chipIDs.map { chip in
        try CampaignSendJob.spec(
          .init(campaignId: campaignID, chipId: chip, generation: generation), catalog: catalog,
          key: "campaign:\(campaignID):chip:\(chip):\(generation)", keyHeldWhileAlive: true, tenant: tenant)
      })
  }
}
