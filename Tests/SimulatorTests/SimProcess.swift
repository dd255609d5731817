import Foundation
import TestSupport
import WAHASimulator
import Wire

/// A real `whago sim waha` on a port of the kernel's choosing, with helpers that speak its API as a WAHA client would.
final class SimProcess: Sendable {
  let child: ChildProcess
  let port: Int
  let apiKey: String
  var base: String { "http://127.0.0.1:\(port)" }

  init(apiKey: String = "sim-key-\(UUID().uuidString.prefix(8))", extra: [String] = []) async throws {
    self.apiKey = apiKey
    (child, port) = try await Whago.server(
      ["sim", "waha", "--api-key", apiKey, "--latency", "0ms"] + extra, label: "sim-waha")
    try await eventually("whago sim waha to answer /ping", within: .seconds(30), every: .milliseconds(50)) {
      if !self.child.isRunning { throw TestSetupError("whago sim waha exited: \(self.child.output)") }
      return (try? await HTTP.send("GET", "\(self.base)/ping"))?.status == 200
    }
  }

  /// A WAHA call with the key (or `key`, or none with `key: ""`).
  func api(_ method: String, _ path: String, _ body: JSONValue? = nil, key: String? = nil) async throws -> HTTP.Reply {
    var headers: [String: String] = [:]
    let key = key ?? apiKey
    if !key.isEmpty { headers["X-Api-Key"] = key }
    if body != nil { headers["Content-Type"] = "application/json" }
    return try await HTTP.send(method, base + path, headers: headers, body: body?.encoded())
  }

  func sendText(session: String = "default", to chatId: String, _ text: String) async throws -> HTTP.Reply {
    try await api(
      "POST", "/api/sendText", ["session": .string(session), "chatId": .string(chatId), "text": .string(text)])
  }

  /// `GET /api/{session}/chats/{chatId}/messages` with `query` (e.g. `limit=1`) as given.
  func chatMessages(session: String = "default", _ chatId: String, _ query: String = "") async throws -> HTTP.Reply {
    try await api("GET", "/api/\(session)/chats/\(chatId)/messages" + (query.isEmpty ? "" : "?" + query))
  }

  /// `/_sim/...`, which needs no key.
  func control(_ method: String, _ path: String, _ body: JSONValue? = nil) async throws -> HTTP.Reply {
    try await api(method, "/_sim" + path, body, key: "")
  }

  func messages() async throws -> [LoggedMessage] {
    try JSONDecoder().decode([LoggedMessage].self, from: try await control("GET", "/messages").body)
  }

  func sessionStatus(_ name: String) async throws -> String? {
    try JSONValue.parse(try await api("GET", "/api/sessions/\(name)").body)["status"]?.string
  }

  func stop() async throws {
    child.signal(SIGTERM)
    try await child.waitForExit()
  }
}

extension HTTP.Reply {
  var value: JSONValue {
    get throws { try JSONValue.parse(body) }
  }
}
