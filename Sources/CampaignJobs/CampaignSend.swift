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

  public func run(_ parameters: CampaignSendJob.Parameters, context: JobContext) async throws {
    let campaignID = parameters.campaignId
    let chipID = parameters.chipId
    guard let state = try await store.senderState(campaignID: campaignID, chipID: chipID) else {
      context.logger.info("chip left the campaign; its sender stops", metadata: ["campaign": "\(campaignID)"])
      return
    }
    let campaign = state.campaign
    guard campaign.status == .running, campaign.generation == parameters.generation else { return }

    let window = try SendingWindow(
      timeZone: campaign.timezone, start: String(campaign.windowStart.prefix(5)),
      end: String(campaign.windowEnd.prefix(5)), days: Set(campaign.windowDays))
    // Redis time, the one clock every worker and the queue share, not this host's.
    let now = Date(timeIntervalSince1970: Double(try await context.broker.redisTime()) / 1000)
    if !window.contains(now) {
      throw Snooze(for: .milliseconds(Int64(window.nextStart(after: now).timeIntervalSince(now) * 1000) + 1))
    }
    // Not WORKING, or read-only over the plan's chip limit: its messages go to the others.
    guard state.chip.status == .working, !state.chip.readOnly else { throw Snooze(for: chipRecheck) }

    let waha = WAHAClient(
      baseURL: state.chip.wahaUrl, apiKey: state.chip.wahaApiKey, http: http, timeout: wahaTimeout,
      ownContainer: state.chip.managed)
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
      switch claim {
      case .message(let claimed): message = claimed
      case .stopped: return
      case .outOfCredits:
        context.logger.warning("no credits left: campaign paused", metadata: ["campaign": "\(campaignID)"])
        return
      case .finished(let completed):
        if completed { context.logger.info("campaign completed", metadata: ["campaign": "\(campaignID)"]) }
        return
      }
    }

    let pace = Self.pace(campaign)
    var random = SystemRandomNumberGenerator()
    let sent: SentMessage
    let chatID: String
    do {
      let lookedUp: String?
      if let known = message.chatId {
        chatID = known
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
        messageID: message.id, owner: owner, campaignID: campaignID, generation: parameters.generation,
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
      try await handle(error, message: message, owner: owner, chipID: chipID, context: context)
      return
    }
    guard
      let count = try await store.recordSent(
        messageID: message.id, owner: owner, campaignID: campaignID, chipID: chipID, wahaMessageID: sent.id,
        chatID: chatID)
    else { throw LeaseLost(job: context.id) }
    throw Snooze(for: pace.delay(afterSend: count, using: &random))
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
