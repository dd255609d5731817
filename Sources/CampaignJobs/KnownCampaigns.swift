import CampaignStore
import Synchronization

/// The settings of the campaigns this worker's senders run, as their last claim read them, so a
/// sender's next run can claim at once instead of reading its state first (`CampaignSend`).
///
/// A campaign's own settings (template, media, pace) never change once it exists; what can (the
/// tenant's window, the plan's gap, the chip) comes fresh with every claim, which also refuses a
/// chip that is not ready to send. So an entry is never wrong for long: at worst the window check
/// before a claim uses the window of the run before, and the claim's own copy checks it again.
final class KnownCampaigns: Sendable {
  struct Sender: Hashable, Sendable {
    var campaign: Int64
    var chip: Int64
  }

  private let campaigns = Mutex<[Sender: SenderState.Campaign]>([:])
  /// Enough for every sender of a busy worker; past it the map starts over (each sender reads
  /// its state once more).
  static let capacity = 100_000

  /// The settings `sender` last claimed with, if they are this `generation`'s.
  func campaign(of sender: Sender, generation: Int) -> SenderState.Campaign? {
    campaigns.withLock { $0[sender] }.flatMap { $0.generation == generation ? $0 : nil }
  }

  func remember(_ campaign: SenderState.Campaign, of sender: Sender) {
    campaigns.withLock { campaigns in
      if campaigns.count >= Self.capacity, campaigns[sender] == nil { campaigns.removeAll(keepingCapacity: true) }
      campaigns[sender] = campaign
    }
  }

  func forget(_ sender: Sender) {
    _ = campaigns.withLock { $0.removeValue(forKey: sender) }
  }
}
