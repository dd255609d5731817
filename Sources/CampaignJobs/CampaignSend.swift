import CampaignStore
import Campaigns
import Foundation
import JobContracts
import JobQueue
import Logging
import OutboundHTTP
import Store
import WAHA
import Worker

/// `campaign.send`: one chip's sender for one campaign. Each run sends at most one message, then
/// snoozes for the chip's human pause and runs again as the same job, so a chip never has two
/// senders and never sends faster than its pace; the catalog's per-chip and per-tenant buckets
/// are taken before every run. The job ends when the campaign is paused, cancelled, relaunched or
/// finished.
///
/// Exactly once: a message is claimed (state `sending`) in PostgreSQL before WAHA is called and
/// recorded `sent` after. A run that ends in between (a crash, a timeout) leaves the row
/// `sending`; the next run of this chip's job first asks WAHA whether the chat already holds the
/// text, and only sends it if it does not. A row without its text never passed the pre-send
/// check, which keeps the text, so nothing of it was sent: that run renders it and sends it.
///
/// Three statements a send: the claim, the pre-send check and the record. A sender reads
/// its state first (`senderState`) only when it does not know its campaign yet in this worker, or
/// when the claim finds its chip not ready or a message of it in flight (`claimForSender`).
///
/// Fenced: every claim names the run that made it (`JobContext.fence`). A run that finds a message
/// in flight takes it over before looking in the chat, and the check just before the send (and
/// the `sent` record) succeed only for the owner, with the job's lease confirmed in Redis, so a
/// worker that stalled past its lease and wakes up mid-typing stops instead of sending again.
public struct CampaignSend: JobHandler {
  public typealias Contract = CampaignSendJob

  let store: Store
  let http: HTTPClient
  /// How long one WAHA call may take before it counts as a timeout.
  let wahaTimeout: Duration
  /// How often a sender whose chip is not WORKING looks again.
  let chipRecheck: Duration

  /// Campaigns' settings as the last claim read them, so the next run claims at once.
  let known = KnownCampaigns()

  public func run(_ parameters: CampaignSendJob.Parameters, context: JobContext) async throws {
    let sender = KnownCampaigns.Sender(campaign: parameters.campaignId, chip: parameters.chipId)
    if let campaign = known.campaign(of: sender, generation: parameters.generation),
      try await claimAndSend(campaign, sender: sender, parameters: parameters, context: context)
    {
      return
    }
    try await lookAndSend(sender: sender, parameters: parameters, context: context)
  }

  /// The common step, for a sender that knows its campaign's settings: one statement claims the
  /// next message and reads what `lookAndSend` would have read first (the tenant's window and
  /// plan gap, the chip's status and address). False when the window it knows is closed, or the
  /// claim found the chip not ready to send or holding a message in flight: nothing was claimed,
  /// and the caller looks.
  private func claimAndSend(
    _ campaign: SenderState.Campaign, sender: KnownCampaigns.Sender, parameters: CampaignSendJob.Parameters,
    context: JobContext
  ) async throws -> Bool {
    let now = try await Self.redisNow(context)
    do {
      try Self.checkWindow(campaign, at: now)
    } catch is Snooze {
      return false  // outside the window the last claim read; the tenant may have moved it since
    }
    let template = try MessageTemplate(campaign.template)
    let owner = context.fence
    switch try await store.claimForSender(
      campaignID: sender.campaign, chipID: sender.chip, generation: parameters.generation, owner: owner,
      render: { variables in Self.render(template, variables) })
    {
    case .lookAgain:
      known.forget(sender)
      return false
    case .none(let claim):
      known.forget(sender)
      ended(claim, campaignID: sender.campaign, context: context)
      return true
    case .message(let message, let state):
      known.remember(state.campaign, of: sender)
      // The tenant may have moved its window since the last run: the claim read it as it is now.
      do {
        try Self.checkWindow(state.campaign, at: now)
      } catch {
        try await store.releaseMessage(messageID: message.id, owner: owner, reason: nil)
        throw error
      }
      try await deliver(
        message, campaign: state.campaign, waha: waha(state.chip), session: state.chip.session,
        parameters: parameters, context: context)
      return true
    }
  }

  /// A step that reads the sender's state first: the first run of a sender in this worker, and
  /// any run after its chip was not ready or a run of it ended early.
  private func lookAndSend(
    sender: KnownCampaigns.Sender, parameters: CampaignSendJob.Parameters, context: JobContext
  ) async throws {
    let campaignID = sender.campaign
    let chipID = sender.chip
    guard let state = try await store.senderState(campaignID: campaignID, chipID: chipID) else {
      context.logger.info("chip left the campaign; its sender stops", metadata: ["campaign": "\(campaignID)"])
      return
    }
    let campaign = state.campaign
    guard campaign.status == .running, campaign.generation == parameters.generation else { return }

    try Self.checkWindow(campaign, at: try await Self.redisNow(context))
    // Not WORKING, or read-only over the plan's chip limit: its messages go to the others.
    guard state.chip.status == .working, !state.chip.readOnly else { throw Snooze(for: chipRecheck) }
    // Ready to send: its next run may claim at once. A chip that is not keeps looking first.
    known.remember(campaign, of: sender)

    let waha = waha(state.chip)
    let session = state.chip.session
    let owner = context.fence
    var message: OutgoingMessage
    if let inFlight = state.inFlight {
      // Ours from here on: an earlier run that is only stalled, not dead, can no longer send it.
      message = try await store.takeOver(messageID: inFlight.id, owner: owner)
      if let variables = message.variables {
        // Claimed but never past its pre-send check: never sent, so nothing to look up; its text
        // is rendered again, as the claim would have.
        guard let text = Self.render(try MessageTemplate(campaign.template), variables) else {
          try await store.recordFailed(messageID: message.id, owner: owner, reason: Store.missingVariable)
          throw Snooze(for: .zero)
        }
        message.text = text
      } else if let (accepted, chatID) = try await alreadyAccepted(message, waha: waha, session: session) {
        guard
          try await store.recordSent(
            messageID: inFlight.id, owner: owner, campaignID: campaignID, chipID: chipID,
            wahaMessageID: accepted.shortID, chatID: chatID) != nil
        else { throw LeaseLost(job: context.id) }
        context.logger.info("message found sent after an interrupted run", metadata: ["message": "\(inFlight.id)"])
        throw Snooze(for: .zero)
      }
    } else {
      let template = try MessageTemplate(campaign.template)
      let claim = try await store.claimMessage(
        campaignID: campaignID, chipID: chipID, generation: parameters.generation, owner: owner,
        render: { variables in Self.render(template, variables) })
      guard case .message(let claimed) = claim else {
        known.forget(sender)
        ended(claim, campaignID: campaignID, context: context)
        return
      }
      message = claimed
    }
    try await deliver(
      message, campaign: campaign, waha: waha, session: session, parameters: parameters, context: context)
  }

  /// Sends a claimed message as a person would (seen, typing, the pace's pause), checking just
  /// before the send that it is still this run's to send, and records it.
  private func deliver(
    _ message: OutgoingMessage, campaign: SenderState.Campaign, waha: WAHAClient, session: String,
    parameters: CampaignSendJob.Parameters, context: JobContext
  ) async throws {
    let owner = context.fence
    let pace = Self.pace(campaign)
    var random = SystemRandomNumberGenerator()
    let sent: SentMessage
    let chatID: String
    do {
      let lookedUp: String?
      if let chat = message.chatId {
        chatID = chat
        lookedUp = nil
      } else {
        chatID = try await waha.chatId(forPhone: message.phone, session: session)
        lookedUp = chatID  // kept by the pre-send check below
      }
      try await waha.sendSeen(session: session, chatId: chatID)
      let typing = min(pace.typingDuration(for: message.text, using: &random), pace.interval.lowerBound)
      if typing > .zero {
        try await waha.startTyping(session: session, chatId: chatID)
        try await Task.sleep(for: typing)
        try await waha.stopTyping(session: session, chatId: chatID)
      }
      // A pause that came while typing stops this send too; so does another run that took the
      // message over while this one was stalled, in PostgreSQL or in Redis.
      switch try await store.sendCheck(
        messageID: message.id, owner: owner, campaignID: parameters.campaignId, generation: parameters.generation,
        chatID: lookedUp, text: message.variables == nil ? nil : message.text)
      {
      case .send: break
      case .stopped:
        try await store.releaseMessage(messageID: message.id, owner: owner, reason: nil)
        return
      case .notOwner: throw LeaseLost(job: context.id)
      }
      try await context.confirmLease()
      sent = try await send(message.text, mediaURL: campaign.mediaUrl, to: chatID, waha: waha, session: session)
    } catch let error as WAHAError {
      try await handle(error, message: message, owner: owner, chipID: parameters.chipId, context: context)
      return
    }
    guard
      let count = try await store.recordSent(
        messageID: message.id, owner: owner, campaignID: parameters.campaignId, chipID: parameters.chipId,
        wahaMessageID: sent.id, chatID: chatID)
    else { throw LeaseLost(job: context.id) }
    throw Snooze(for: pace.delay(afterSend: count, using: &random))
  }

  /// Why a claim found nothing to send, in the log; the sender's job ends.
  private func ended(_ claim: Claim, campaignID: Int64, context: JobContext) {
    switch claim {
    case .message, .stopped: break
    case .outOfCredits:
      context.logger.warning("no credits left: campaign paused", metadata: ["campaign": "\(campaignID)"])
    case .finished(let completed):
      if completed { context.logger.info("campaign completed", metadata: ["campaign": "\(campaignID)"]) }
    }
  }

  private func waha(_ chip: SenderState.ChipSide) -> WAHAClient {
    WAHAClient(
      baseURL: chip.wahaUrl, apiKey: chip.wahaApiKey, http: http, timeout: wahaTimeout, ownContainer: chip.managed)
  }

  /// Redis time, the one clock every worker and the queue share, not this host's.
  private static func redisNow(_ context: JobContext) async throws -> Date {
    Date(timeIntervalSince1970: Double(try await context.broker.redisTime()) / 1000)
  }

  /// Snoozes until the tenant's sending window opens, when `now` is outside it.
  private static func checkWindow(_ campaign: SenderState.Campaign, at now: Date) throws {
    let window = try SendingWindow(
      timeZone: campaign.timezone, start: String(campaign.windowStart.prefix(5)),
      end: String(campaign.windowEnd.prefix(5)), days: Set(campaign.windowDays))
    if !window.contains(now) {
      throw Snooze(for: .milliseconds(Int64(window.nextStart(after: now).timeIntervalSince(now) * 1000) + 1))
    }
  }

  /// WAHA's answer to a failed call decides the message's fate: a number that is not on WhatsApp
  /// or a refused request fails it (no credit spent); a session that is not WORKING hands it back
  /// for another chip and marks this one; anything transient is retried by the queue, and the
  /// retry first checks whether WAHA took the message after all.
  private func handle(
    _ error: WAHAError, message: OutgoingMessage, owner: String, chipID: Int64, context: JobContext
  ) async throws {
    switch error {
    case .notOnWhatsApp, .rejected, .sessionExists:
      try await store.recordFailed(
        messageID: message.id, owner: owner, reason: error.description,
        text: message.variables == nil ? nil : message.text)
      throw Snooze(for: .zero)
    case .sessionNotWorking(_, let status):
      try await store.releaseMessage(messageID: message.id, owner: owner, reason: nil)
      try await store.recordChipStatus(id: chipID, status: ChipStatus(reported: status))
      context.logger.warning("chip is not WORKING; its messages go to the others", metadata: ["status": "\(status)"])
      throw Snooze(for: chipRecheck)
    case .sessionNotFound, .unauthorized:
      try await store.releaseMessage(messageID: message.id, owner: owner, reason: nil)
      try await store.recordChipStatus(id: chipID, status: .failed)
      context.logger.error("chip cannot send: \(error)")
      throw Snooze(for: chipRecheck)
    case .transient:
      throw error
    }
  }

  /// The message WAHA already holds in the chat for `message`'s text, sent since its attempt began.
  private func alreadyAccepted(_ message: OutgoingMessage, waha: WAHAClient, session: String) async throws
    -> (ChatMessage, chatID: String)?
  {
    let chatID: String
    if let known = message.chatId {
      chatID = known
    } else {
      do {
        chatID = try await waha.chatId(forPhone: message.phone, session: session)
      } catch {
        if error.isNotOnWhatsApp { return nil }  // a number WhatsApp does not know was never sent to
        throw error
      }
    }
    let since = message.sendingAt.addingTimeInterval(-5)
    let messages = try await waha.messages(session: session, chatId: chatID, fromMe: true, since: since, limit: 20)
    return messages.first { $0.body == message.text }.map { ($0, chatID) }
  }

  private func send(_ text: String, mediaURL: String?, to chatID: String, waha: WAHAClient, session: String)
    async throws(WAHAError) -> SentMessage
  {
    guard let mediaURL else { return try await waha.sendText(session: session, chatId: chatID, text: text) }
    let file = MediaFile(url: mediaURL)
    let wahaFile = WAHAFile(mimetype: file.mimetype, url: mediaURL, filename: file.filename)
    return file.isImage
      ? try await waha.sendImage(session: session, chatId: chatID, file: wahaFile, caption: text)
      : try await waha.sendFile(session: session, chatId: chatID, file: wahaFile, caption: text)
  }

  static func render(_ template: MessageTemplate, _ variables: String) -> String? {
    guard let values = try? JSONDecoder().decode([String: String].self, from: Data(variables.utf8)) else { return nil }
    return try? template.render(values)
  }

  static func pace(_ campaign: SenderState.Campaign) -> HumanPace {
    let rest = campaign.restEvery.map {
      HumanPace.Rest(every: $0, duration: .milliseconds(campaign.restMinMs)...(.milliseconds(campaign.restMaxMs)))
    }
    return HumanPace(
      interval: .milliseconds(campaign.minIntervalMs)...(.milliseconds(campaign.maxIntervalMs)),
      minimumGap: .milliseconds(campaign.minSendGapMs),
      rest: rest)
  }
}
