import Campaigns
import Foundation
import JobContracts
import JobQueue
import Logging
import MaturationStore
import OutboundHTTP
import Store
import WAHA
import Worker

/// `maturation.exchange`: one planned warm-up message, sent as a person would: read receipt,
/// typing for as long as the text takes (2.5 to 4.5 characters a second), then the text. A paused
/// or stopped program, a chip that is not WORKING, or a moment outside the window skips it (a day
/// never spills into the next). An interrupted send is looked up in the chat before it is retried.
public struct MaturationExchange: JobHandler {
  public typealias Contract = MaturationExchangeJob

  let store: Store
  let http: HTTPClient
  let clock: ScheduleClock
  let wahaTimeout: Duration

  public func run(_ parameters: MaturationExchangeJob.Parameters, context: JobContext) async throws {
    guard let exchange = try await store.exchange(id: parameters.exchangeId),
      exchange.state == .planned || exchange.state == .sending
    else { return }
    let chips = try await store.maturationChips(programID: exchange.programId)
    guard let from = chips.first(where: { $0.id == exchange.fromChipId }),
      let to = chips.first(where: { $0.id == exchange.toChipId })
    else {
      try await store.finishExchange(
        id: exchange.id, state: .skipped, wahaMessageID: nil, error: "chip left the program")
      return
    }
    let sender = WAHAClient(
      baseURL: from.wahaUrl, apiKey: from.wahaApiKey, http: http, timeout: wahaTimeout, ownContainer: from.managed)
    let peerChat: String
    if let known = to.chatId {
      peerChat = known
    } else {
      let peer = WAHAClient(
        baseURL: to.wahaUrl, apiKey: to.wahaApiKey, http: http, timeout: wahaTimeout, ownContainer: to.managed)
      guard let me = try await peer.session(to.session).me?.id else {
        throw WAHAError.transient("chip \(to.id)'s session has no number yet")
      }
      peerChat = me
      try await store.recordChipChatID(id: to.id, chatID: me)
    }
    let owner = context.fence
    if exchange.state == .sending {
      // Ours from here on: an earlier run that is only stalled can no longer send it. Looked for
      // before any reason to skip it: a send whose answer was lost went out, whatever the window
      // or the program says now.
      guard try await store.takeOverExchange(id: exchange.id, owner: owner) else { return }
      // Since it went in flight, and not a message another exchange of the pair recorded: the
      // same phrase is sent more than once over a program.
      let since = (exchange.sendingAt ?? exchange.createdAt).addingTimeInterval(-5)
      do {
        let earlier = try await sender.messages(session: from.session, chatId: peerChat, fromMe: true, since: since)
          .filter { $0.body == exchange.text }
        let taken = try await store.exchangeMessagesRecorded(chipID: from.id, messageIDs: earlier.map(\.shortID))
        if let found = earlier.first(where: { !taken.contains($0.shortID) }) {
          try await store.finishExchange(
            id: exchange.id, state: .sent, wahaMessageID: found.shortID, error: nil, owner: owner)
          return
        }
      } catch let error as WAHAError where !error.isTransient {
        // The chat cannot be read (the session stopped working): the checks below decide, so a
        // chip that is not WORKING skips it (a message it sent just before stopping then counts
        // as skipped, not sent: never sent twice).
        context.logger.info("in-flight warm-up message not looked up", metadata: ["error": "\(error)"])
      }
    }
    guard exchange.programStatus == .active else {
      try await store.finishExchange(
        id: exchange.id, state: .skipped, wahaMessageID: nil, error: "program \(exchange.programStatus)")
      return
    }
    let now = try await clock.now(on: context.broker)
    guard let program = try await store.livePrograms(now: now).first(where: { $0.id == exchange.programId }) else {
      try await store.finishExchange(id: exchange.id, state: .skipped, wahaMessageID: nil, error: "program not active")
      return
    }
    let window = try SendingWindow(
      timeZone: program.timezone, start: String(program.windowStart.prefix(5)),
      end: String(program.windowEnd.prefix(5)), days: Set(program.windowDays))
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = window.timeZone
    let localDate = MaturationTick.localDate(calendar.startOfDay(for: now), calendar)
    guard window.contains(now) else {
      try await store.finishExchange(id: exchange.id, state: .skipped, wahaMessageID: nil, error: "outside the window")
      try await store.recordMaturationSkip(
        programID: program.id, localDate: localDate, reason: "outside_window", chipID: from.id, detail: "ran late")
      return
    }
    guard !from.readOnly else {
      try await store.finishExchange(
        id: exchange.id, state: .skipped, wahaMessageID: nil, error: "chip read-only (over the plan's chip limit)")
      try await store.recordMaturationSkip(
        programID: program.id, localDate: localDate, reason: "chip_read_only", chipID: from.id,
        detail: "over the plan's chip limit")
      return
    }
    guard from.status == .working else {
      try await store.finishExchange(
        id: exchange.id, state: .skipped, wahaMessageID: nil, error: "chip not WORKING (\(from.status))")
      try await store.recordMaturationSkip(
        programID: program.id, localDate: localDate, reason: "chip_not_working", chipID: from.id,
        detail: from.status.rawValue)
      return
    }
    if exchange.state != .sending {
      guard try await store.claimExchange(id: exchange.id, owner: owner) else { return }
    }
    do {
      try await sender.sendSeen(session: from.session, chatId: peerChat)
      try await sender.startTyping(session: from.session, chatId: peerChat)
      var random = SystemRandomNumberGenerator()
      let typing = HumanPace().typingDuration(for: exchange.text, using: &random)
      // On a compressed test clock the typing shrinks with the day.
      try await Task.sleep(for: typing / max(clock.speed, 1))
      try await sender.stopTyping(session: from.session, chatId: peerChat)
      // Another run took it over while this one was stalled past its lease: stop, send nothing.
      guard try await store.ownsExchange(id: exchange.id, owner: owner) else { throw LeaseLost(job: context.id) }
      // The window may have closed while it typed (a slow run, a stalled worker): looked at again
      // on the same clock just before the send, so no warm-up message leaves after the window.
      let sendTime = try await clock.now(on: context.broker)
      guard window.contains(sendTime) else {
        try await store.finishExchange(
          id: exchange.id, state: .skipped, wahaMessageID: nil, error: "window closed while typing", owner: owner)
        try await store.recordMaturationSkip(
          programID: program.id, localDate: localDate, reason: "outside_window", chipID: from.id,
          detail: "window closed while typing")
        return
      }
      try await context.confirmLease()
      let sent = try await sender.sendText(session: from.session, chatId: peerChat, text: exchange.text)
      try await store.finishExchange(id: exchange.id, state: .sent, wahaMessageID: sent.id, error: nil, owner: owner)
    } catch let error as WAHAError where !error.isTransient {
      try await store.finishExchange(
        id: exchange.id, state: .failed, wahaMessageID: nil, error: error.description, owner: owner)
      if case .sessionNotWorking(_, let status) = error {
        try await store.recordChipStatus(id: from.id, status: ChipStatus(reported: status))
      }
    }
  }
}
