import Hummingbird
import Wire

/// `/_sim`: what tests use to steer the simulator and to read what it accepted (the phone's side of a
/// QR scan, every session with its config). Not part of WAHA, and never behind the API key or the faults.
struct ControlRoutes {
  let simulator: Simulator
  var store: SimStore { simulator.store }

  func register(on router: Router<some RequestContext>) {
    let sim = router.group("_sim")
    sim.get("config") { _, _ in Exchange.json(store.settings.json) }
    sim.post("config") { request, _ in
      Exchange.json(try store.updateSettings(try await Exchange.object(request)).json)
    }
    sim.get("messages") { _, _ in try Exchange.encoding(store.messages()) }
    sim.delete("messages") { _, _ in
      store.clearMessages()
      return Response(status: .noContent)
    }
    sim.get("sessions") { _, _ in Exchange.json(.array(store.sessions(all: true).map(\.controlInfo))) }
    sim.post("sessions/:session/scan") { request, context in
      let name = context.parameters.get("session") ?? ""
      let phone = try await Exchange.object(request)["phone"]
      let given = phone == nil || phone == .null ? nil : try AuthRoutes.phoneNumber(phone, field: "phone")
      return Exchange.json(try simulator.scan(name, phone: given).controlInfo)
    }
    sim.post("sessions/:session/status") { request, context in
      let name = context.parameters.get("session") ?? ""
      guard let status = try await Exchange.object(request)["status"]?.string, !status.isEmpty else {
        throw SimulatedWAHAError.validation(["status should not be empty, e.g. {\"status\":\"FAILED\"}"])
      }
      return Exchange.json(try simulator.force(name, to: SessionStatus(rawValue: status)).info)
    }
    sim.post("incoming") { request, _ in try await incoming(request) }
  }

  /// A contact's reply, sent as WAHA's `message` webhook (how tests say SAIR).
  private func incoming(_ request: Request) async throws -> Response {
    let body = try await Exchange.object(request)
    let session = try store.session(body["session"]?.string ?? "default")
    var problems: [String] = []
    let from = body["from"]?.string ?? ""
    if !from.hasSuffix("@c.us") { problems.append("from must be a chatId like 5511999999999@c.us") }
    guard let text = body["body"]?.string else {
      throw SimulatedWAHAError.validation(problems + ["body should not be empty"])
    }
    guard problems.isEmpty else { throw SimulatedWAHAError.validation(problems) }
    let id = SendingRoutes.messageID()
    let payload: JSONValue = [
      "id": JSONValue("false_\(from)_\(id)"), "timestamp": JSONValue(nowMilliseconds() / 1000), "from": JSONValue(from),
      "fromMe": false, "body": JSONValue(text), "hasMedia": false,
    ]
    simulator.webhooks.send(
      WebhookEvent("message", session: session, payload: payload, targets: store.targets(session)))
    return Exchange.json(payload, status: .created)
  }
}
