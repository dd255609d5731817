import Hummingbird
import Wire

/// `/api/sessions`: create, list, show, start, stop, restart, logout, delete. Starting needs no QR
/// scan: STARTING, then WORKING after the start delay.
struct SessionRoutes {
  let simulator: Simulator
  var store: SimStore { simulator.store }

  func register(on api: RouterGroup<some RequestContext>) {
    api.post("sessions") { request, _ in try await create(request) }
    api.get("sessions") { request, _ in
      let all = request.uri.queryParameters.get("all") == "true"
      return Exchange.json(.array(store.sessions(all: all).map(\.info)))
    }
    api.get("sessions/:session") { _, context in Exchange.json(try store.session(try name(context)).info) }
    api.put("sessions/:session") { request, context in
      let config = try await Exchange.object(request)["config"] ?? .null
      return Exchange.json(try store.update(try name(context), config: config).info)
    }
    api.get("sessions/:session/me") { _, context in
      let session = try store.session(try name(context))
      return Exchange.json(session.status == .working ? session.me : .null)
    }
    api.post("sessions/:session/start") { _, context in
      let name = try name(context)
      let session = try store.session(name)
      if session.status == .working || session.status == .starting {
        return Exchange.json(session.info, status: .created)
      }
      return Exchange.json(try simulator.start(name).info, status: .created)
    }
    api.post("sessions/:session/restart") { _, context in
      Exchange.json(try simulator.start(try name(context)).info, status: .created)
    }
    // A real logout would ask for a new QR scan; here the session simply stops until started again.
    for action in ["stop", "logout"] {
      api.post("sessions/:session/\(action)") { _, context in
        let name = try name(context)
        let session = try store.session(name)
        if session.status == .stopped { return Exchange.json(session.info, status: .created) }
        return Exchange.json(try simulator.force(name, to: .stopped).info, status: .created)
      }
    }
    api.delete("sessions/:session") { _, context in
      try store.delete(try name(context)).map { simulator.webhooks.send($0) }
      return Response(status: .ok)
    }
  }

  /// `POST /api/sessions {"name","start","config"}`: a new session, started unless `start` is false.
  private func create(_ request: Request) async throws -> Response {
    let body = try await Exchange.object(request)
    let name = body["name"]?.string ?? "default"
    var problems: [String] = []
    if !Self.isValidName(name) { problems.append("name must be 1 to 64 letters, digits, '-' or '_'") }
    let config = body["config"] ?? [:]
    if case .object = config {} else { problems.append("config must be an object") }
    if let start = body["start"], start != .bool(true), start != .bool(false) {
      problems.append("start must be a boolean")
    }
    guard problems.isEmpty else { throw SimulatedWAHAError.validation(problems) }
    var session = try store.create(name: name, config: config)
    if body["start"] != .bool(false) { session = try simulator.start(name) }
    return Exchange.json(session.info, status: .created)
  }

  private func name(_ context: some RequestContext) throws -> String {
    guard let name = context.parameters.get("session") else { throw SimulatedWAHAError.sessionNotFound }
    return name
  }

  static func isValidName(_ name: String) -> Bool {
    (1...64).contains(name.count)
      && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
  }
}
