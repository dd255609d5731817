import Wire

/// The simulator's behaviour behind the routes: session transitions with their webhooks, accepted
/// sends with their acks and drops.
struct Simulator: Sendable {
  let store: SimStore
  let webhooks: WebhookSender

  /// STARTING now; after the start delay WORKING, or SCAN_QR_CODE when a scan is required and no
  /// account is linked yet. Each change sends `session.status`.
  func start(_ name: String) throws(SimulatedWAHAError) -> SimSession {
    let (session, event) = try store.setStatus(name, .starting)
    event.map { webhooks.send($0) }
    let epoch = session.epoch
    webhooks.work.after(store.settings.startDelay) { [store, webhooks] in
      if let (_, event) = try? store.finishStarting(name, ifEpoch: epoch) { event.map { webhooks.send($0) } }
    }
    return session
  }

  /// Unlinks the account and stops the session.
  func logOut(_ name: String) throws(SimulatedWAHAError) -> SimSession {
    let (session, event) = try store.logOut(name)
    event.map { webhooks.send($0) }
    return session
  }

  /// The QR (or pairing code) was taken on the phone: linked, and WORKING.
  func scan(_ name: String, phone: String?) throws(SimulatedWAHAError) -> SimSession {
    let (session, event) = try store.scan(name, phone: phone)
    webhooks.send(event)
    return session
  }

  func force(_ name: String, to status: SessionStatus) throws(SimulatedWAHAError) -> SimSession {
    let (session, event) = try store.setStatus(name, status)
    event.map { webhooks.send($0) }
    return session
  }

  /// Logs the message and schedules its acks (1 SERVER, 2 DEVICE, 3 READ); may then drop the session.
  func accept(_ message: LoggedMessage) throws(SimulatedWAHAError) {
    let settings = store.settings
    let (session, dropped) = try store.accept(message, drop: settings.rollDrop())
    let targets = store.targets(session)
    if !targets.isEmpty {
      let names = ["SERVER", "DEVICE", "READ"]
      for (index, delay) in settings.ackDelays.prefix(3).enumerated() {
        let payload: JSONValue = [
          "id": JSONValue(message.serializedID), "from": JSONValue(message.chatId), "fromMe": true,
          "ack": JSONValue(index + 1), "ackName": JSONValue(names[index]),
        ]
        webhooks.send(WebhookEvent("message.ack", session: session, payload: payload, targets: targets), after: delay)
      }
    }
    dropped.map { webhooks.send($0) }
  }
}
