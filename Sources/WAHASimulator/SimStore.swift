import Foundation
import Synchronization
import Wire

/// Everything the simulator remembers: sessions, the log of accepted messages and the current
/// settings. One lock, held only for a few dictionary operations and never across an await, so many
/// sends in flight contend for microseconds and never block the cooperative pool.
final class SimStore: Sendable {
  private struct State {
    var sessions: [String: SimSession] = [:]
    var messages: [LoggedMessage] = []
    var settings: SimSettings
  }

  private let state: Mutex<State>
  /// The global `--webhook-url` with `--webhook-secret`, for sessions that name no webhook of their own.
  let defaultWebhook: WebhookTarget?

  init(settings: SimSettings, defaultWebhook: WebhookTarget?, workingSessions: [String]) {
    let now = nowMilliseconds()
    var sessions: [String: SimSession] = [:]
    for name in workingSessions {
      sessions[name] = SimSession(name: name, config: [:], status: .working, at: now)
    }
    state = Mutex(State(sessions: sessions, settings: settings))
    self.defaultWebhook = defaultWebhook
  }

  var settings: SimSettings { state.withLock { $0.settings } }

  func updateSettings(_ patch: JSONValue) throws(SimulatedWAHAError) -> SimSettings {
    try state.withLock { (state) throws(SimulatedWAHAError) -> SimSettings in
      try state.settings.apply(patch)
      return state.settings
    }
  }

  // MARK: Sessions

  func session(_ name: String) throws(SimulatedWAHAError) -> SimSession {
    guard let session = state.withLock({ $0.sessions[name] }) else { throw .sessionNotFound }
    return session
  }

  /// Sessions by name; STOPPED ones only with `all`, as `GET /api/sessions` lists them.
  func sessions(all: Bool) -> [SimSession] {
    state.withLock { $0.sessions.values.filter { all || $0.status != .stopped }.sorted { $0.name < $1.name } }
  }

  func create(name: String, config: JSONValue) throws(SimulatedWAHAError) -> SimSession {
    try state.withLock { (state) throws(SimulatedWAHAError) -> SimSession in
      guard state.sessions[name] == nil else { throw .sessionExists(name) }
      let session = SimSession(name: name, config: config, status: .stopped, at: nowMilliseconds())
      state.sessions[name] = session
      return session
    }
  }

  func update(_ name: String, config: JSONValue) throws(SimulatedWAHAError) -> SimSession {
    try state.withLock { (state) throws(SimulatedWAHAError) -> SimSession in
      guard var session = state.sessions[name] else { throw .sessionNotFound }
      session.config = config
      state.sessions[name] = session
      return session
    }
  }

  /// Moves a session to `status` and returns it with its `session.status` event. With `ifEpoch`,
  /// only if nothing changed the session since (a delayed transition that was overtaken is dropped).
  func setStatus(_ name: String, _ status: SessionStatus, ifEpoch epoch: Int? = nil) throws(SimulatedWAHAError) -> (
    SimSession, WebhookEvent?
  ) {
    try state.withLock { (state) throws(SimulatedWAHAError) -> (SimSession, WebhookEvent?) in
      guard var session = state.sessions[name] else { throw .sessionNotFound }
      if let epoch, session.epoch != epoch { return (session, nil) }
      session.change(to: status, at: nowMilliseconds())
      state.sessions[name] = session
      return (session, statusEvent(session))
    }
  }

  /// Ends STARTING, unless something changed the session since `epoch`: WORKING when an account is
  /// linked or no scan is required, else SCAN_QR_CODE with a new QR. Decided now, under the lock, so
  /// a scan setting changed meanwhile counts.
  func finishStarting(_ name: String, ifEpoch epoch: Int) throws(SimulatedWAHAError) -> (SimSession, WebhookEvent?) {
    try state.withLock { (state) throws(SimulatedWAHAError) -> (SimSession, WebhookEvent?) in
      guard var session = state.sessions[name] else { throw .sessionNotFound }
      guard session.epoch == epoch else { return (session, nil) }
      let next: SessionStatus = state.settings.requireScan && !session.loggedIn ? .scanQRCode : .working
      session.change(to: next, at: nowMilliseconds())
      state.sessions[name] = session
      return (session, statusEvent(session))
    }
  }

  /// Unlinks the account and stops the session (an event unless it was stopped already).
  func logOut(_ name: String) throws(SimulatedWAHAError) -> (SimSession, WebhookEvent?) {
    try state.withLock { (state) throws(SimulatedWAHAError) -> (SimSession, WebhookEvent?) in
      guard var session = state.sessions[name] else { throw .sessionNotFound }
      session.logOut()
      var event: WebhookEvent?
      if session.status != .stopped {
        session.change(to: .stopped, at: nowMilliseconds())
        event = statusEvent(session)
      }
      state.sessions[name] = session
      return (session, event)
    }
  }

  /// The phone read the QR (or took the pairing code): the account is linked to `phone` (else to
  /// the number given with the pairing code) and the session is WORKING. Only from SCAN_QR_CODE.
  func scan(_ name: String, phone: String?) throws(SimulatedWAHAError) -> (SimSession, WebhookEvent) {
    try state.withLock { (state) throws(SimulatedWAHAError) -> (SimSession, WebhookEvent) in
      guard var session = state.sessions[name] else { throw .sessionNotFound }
      guard session.status == .scanQRCode else {
        throw .conflict("session \(name) is \(session.status), not SCAN_QR_CODE: there is no QR code to scan")
      }
      if let phone { session.phone = phone }
      session.change(to: .working, at: nowMilliseconds())
      state.sessions[name] = session
      return (session, statusEvent(session))
    }
  }

  /// Remembers the number a pairing code was asked for; only while SCAN_QR_CODE, as WAHA answers.
  func requestCode(_ name: String, phone: String) throws(SimulatedWAHAError) -> SimSession {
    try state.withLock { (state) throws(SimulatedWAHAError) -> SimSession in
      guard var session = state.sessions[name] else { throw .sessionNotFound }
      guard session.status == .scanQRCode else {
        throw .unexpectedStatus(name, session.status, expected: [.scanQRCode])
      }
      session.phone = phone
      state.sessions[name] = session
      return session
    }
  }

  func delete(_ name: String) throws(SimulatedWAHAError) -> WebhookEvent? {
    try state.withLock { (state) throws(SimulatedWAHAError) -> WebhookEvent? in
      guard var session = state.sessions.removeValue(forKey: name) else { throw .sessionNotFound }
      guard session.status != .stopped else { return nil }
      session.change(to: .stopped, at: nowMilliseconds())
      return statusEvent(session)
    }
  }

  /// The session, if it can send now; else WAHA's 404 or 422.
  func working(_ name: String) throws(SimulatedWAHAError) -> SimSession {
    let session = try session(name)
    guard session.status == .working else { throw .notWorking(name, session.status) }
    return session
  }

  private func statusEvent(_ session: SimSession) -> WebhookEvent {
    WebhookEvent("session.status", session: session, payload: session.statusPayload, targets: targets(session))
  }

  func targets(_ session: SimSession) -> [WebhookTarget] {
    WebhookTarget.resolve(config: session.config, fallback: defaultWebhook)
  }

  // MARK: Messages

  /// Logs an accepted send, unless the session stopped working meanwhile (then WAHA's 422); with
  /// `drop`, the session then falls to FAILED and the returned event tells the world.
  func accept(_ message: LoggedMessage, drop: Bool) throws(SimulatedWAHAError) -> (SimSession, WebhookEvent?) {
    try state.withLock { (state) throws(SimulatedWAHAError) -> (SimSession, WebhookEvent?) in
      guard var session = state.sessions[message.session] else { throw .sessionNotFound }
      guard session.status == .working else { throw .notWorking(session.name, session.status) }
      state.messages.append(message)
      guard drop else { return (session, nil) }
      session.change(to: .failed, at: nowMilliseconds())
      state.sessions[session.name] = session
      return (session, statusEvent(session))
    }
  }

  func messages() -> [LoggedMessage] { state.withLock { $0.messages } }

  /// One chat's accepted messages, oldest first (filtered under the lock rather than copying the log).
  func messages(session: String, chatId: String) -> [LoggedMessage] {
    state.withLock { $0.messages.filter { $0.session == session && $0.chatId == chatId } }
  }

  func clearMessages() { state.withLock { $0.messages.removeAll() } }
}
