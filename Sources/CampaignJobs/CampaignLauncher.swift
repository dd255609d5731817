import Foundation
import JobCatalog
import JobQueue
import Store

/// Puts a campaign's work on the queue: one `campaign.start` per generation (at the scheduled time
/// for a campaign that starts later), which then launches one `campaign.send` per chip. Keys are
/// per campaign and generation, so asking twice (a retried HTTP call, a relaunch after a lost
/// enqueue) never makes two.
public struct CampaignLauncher: Sendable {
  public static let startType = "campaign.start"
  public static let sendType = "campaign.send"

  let broker: Broker
  let catalog: JobCatalog

  public init(broker: Broker, catalog: JobCatalog) {
    self.broker = broker
    self.catalog = catalog
  }

  /// Enqueues the campaign's `campaign.start` for its generation; false when that job was enqueued
  /// before (within the key's window), which is how a repeated launch adds nothing.
  @discardableResult
  public func launch(_ launch: CampaignLaunch) async throws -> Bool {
    let policy = try catalog.policy(for: Self.startType)
    let when: JobSpec.When =
      launch.startAt.map { .at(epochMilliseconds: Int64(($0.timeIntervalSince1970 * 1000).rounded())) } ?? .now
    return try await !broker.enqueue(
      JobSpec(
        type: policy.type, payload: #"{"campaign_id":\#(launch.campaignID),"generation":\#(launch.generation)}"#,
        queue: policy.queue, when: when, maxAttempts: policy.maxAttempts,
        idempotencyKey: "campaign:\(launch.campaignID):start:\(launch.generation)",
        idempotencyWindow: policy.idempotencyWindow, tenant: launch.tenant)
    ).duplicate
  }

  /// Launches every campaign whose current generation was committed but never started (see
  /// `Store.unlaunchedCampaigns`). Returns how many were found and how many starts were new.
  @discardableResult
  public func launchUnlaunched(store: Store) async throws -> (found: Int, enqueued: Int) {
    let unlaunched = try await store.unlaunchedCampaigns()
    var enqueued = 0
    for campaign in unlaunched where try await launch(campaign) { enqueued += 1 }
    return (unlaunched.count, enqueued)
  }

  /// One sender job per chip of the campaign, for this generation: its key is held for as long as
  /// the sender lives (it snoozes between messages, for days over a weekend), so asking again,
  /// however much later, never makes a second sender for a chip while the first one lives.
  func launchSenders(campaignID: Int64, generation: Int, tenant: String, chipIDs: [Int64]) async throws {
    let policy = try catalog.policy(for: Self.sendType)
    _ = try await broker.enqueue(
      chipIDs.map { chip in
        JobSpec(
          type: policy.type,
          payload: #"{"campaign_id":\#(campaignID),"chip_id":\#(chip),"generation":\#(generation)}"#,
          queue: policy.queue, maxAttempts: policy.maxAttempts,
          idempotencyKey: "campaign:\(campaignID):chip:\(chip):\(generation)", keyHeldWhileAlive: true,
          tenant: tenant)
      })
  }
}
