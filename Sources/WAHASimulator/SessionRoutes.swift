import Hummingbird
import Wire

/// `/api/sessions`: create, list, show, update, start, stop, restart, logout, delete. A started
/// session is STARTING, then after the start delay WORKING, or SCAN_QR_CODE when
/// `SimSettings.requireScan` asks for a scan and no account is linked yet.
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
      let config = try await Exchange.object(request)["config"] ?? [:]
      let problems = Self.configProblems(config)
      guard problems.isEmpty else { throw SimulatedWAHAError.validation(problems) }
      return Exchange.json(try store.update(try name(context), config: config).info)
    }
    api.get("sessions/:session/me") { _, context in
      let session = try store.session(try name(context))
      return Exchange.json(session.status == .working ? session.me : .null)
    }
    api.post("sessions/:session/start") { _, context in
      let name = try name(context)
      let session = try store.session(name)
      if [SessionStatus.working, .starting, .scanQRCode].contains(session.status) {
        return Exchange.json(session.info, status: .created)
      }
      return Exchange.json(try simulator.start(name).info, status: .created)
    }
    api.post("sessions/:session/restart") { _, context in
      Exchange.json(try simulator.start(try name(context)).info, status: .created)
    }
    api.post("sessions/:session/stop") { _, context in
      let name = try name(context)
      let session = try store.session(name)
      if session.status == .stopped { return Exchange.json(session.info, status: .created) }
      return Exchange.json(try simulator.force(name, to: .stopped).info, status: .created)
    }
    // Unlinks the account and stops: the next start asks for a QR scan again (with `requireScan`).
    api.post("sessions/:session/logout") { _, context in
      Exchange.json(try simulator.logOut(try name(context)).info, status: .created)
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
    if !Self.isValidName(name) { problems.append("name must be 1 to 54 letters, digits, '-' or '_'") }
    let config = body["config"] ?? [:]
    problems += Self.configProblems(config)
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

  /// WAHA's limit is 54 characters.
  static func isValidName(_ name: String) -> Bool {
    (1...54).contains(name.count)
      && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
  }

  /// What WAHA checks of a session's config: an object, and a `proxy` with a `server` (`host:port`)
  /// and string credentials.
  static func configProblems(_ config: JSONValue) -> [String] {
    guard case .object = config else { return ["config must be an object"] }
    guard let proxy = config["proxy"], proxy != .null else { return [] }
    guard case .object = proxy else { return ["config.proxy must be an object {server, username, password}"] }
    var problems: [String] = []
    if (proxy["server"]?.string ?? "").isEmpty { problems.append("config.proxy.server should not be empty") }
    for field in ["username", "password"] {
      if let value = proxy[field], value != .null, value.string == nil {
        problems.append("config.proxy.\(field) must be a string")
      }
    }
    return problems
  }
}
