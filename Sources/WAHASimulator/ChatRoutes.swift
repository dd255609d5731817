import Foundation
import Hummingbird
import Wire

/// `GET /api/{session}/chats/{chatId}/messages`: a chat's messages, read from the log of accepted
/// sends. A sender whose send timed out asks here before it sends again, because a timeout may come
/// after the message went out (`SimSettings.timeoutAfterSendRate`), as with a real WAHA.
struct ChatRoutes {
  let simulator: Simulator
  var store: SimStore { simulator.store }

  static let defaultLimit = 100
  static let maxLimit = 1000

  func register(on api: RouterGroup<some RequestContext>) {
    api.get(":session/chats/:chatId/messages") { request, context in
      try messages(request, session: parameter("session", context), chatId: parameter("chatId", context))
    }
  }

  /// Newest first, at most `limit` (1 to 1000, 100 when absent), from `filter.timestamp.gte` (Unix
  /// seconds) on. The simulator only knows its own sends, so all are `fromMe` and
  /// `filter.fromMe=false` lists none. Query checked first (400), then the session (404, 422).
  private func messages(_ request: Request, session: String, chatId: String) throws -> Response {
    let query = request.uri.queryParameters
    var problems: [String] = []
    var limit = Self.defaultLimit
    if let text = query.get("limit") {
      if let value = Int(text), value >= 1 {
        limit = min(value, Self.maxLimit)
      } else {
        problems.append("limit must be a positive integer")
      }
    }
    var sinceSeconds = 0
    if let text = query.get("filter.timestamp.gte") {
      if let value = Int(text), value >= 0 {
        sinceSeconds = value
      } else {
        problems.append("filter.timestamp.gte must be a Unix time in seconds")
      }
    }
    var fromMe: Bool?
    if let text = query.get("filter.fromMe") {
      switch text {
      case "true": fromMe = true
      case "false": fromMe = false
      default: problems.append("filter.fromMe must be true or false")
      }
    }
    guard problems.isEmpty else { throw SimulatedWAHAError.validation(problems) }
    _ = try store.working(session)
    if fromMe == false { return Exchange.json(.array([])) }

    let now = nowMilliseconds()
    let ackDelays = store.settings.ackDelays
    // Newest first by time; among sends of the same millisecond, the later accepted first.
    let listed = store.messages(session: session, chatId: chatId).enumerated()
      .filter { $0.element.time / 1000 >= sinceSeconds }
      .sorted { ($0.element.time, $0.offset) > ($1.element.time, $1.offset) }
      .prefix(limit)
      .map(\.element)
    return Exchange.json(.array(listed.map { chatMessage($0, now: now, ackDelays: ackDelays) }))
  }

  /// WAHA's message shape. `hasMedia` is known only for files sent by URL: the log keeps no more.
  private func chatMessage(_ message: LoggedMessage, now: Int, ackDelays: [Duration]) -> JSONValue {
    [
      "id": JSONValue(message.serializedID), "timestamp": JSONValue(message.time / 1000),
      "from": JSONValue(message.chatId),
      "fromMe": true, "body": JSONValue(message.text), "hasMedia": .bool(message.media_url != nil),
      "ack": JSONValue(message.ack(now: now, ackDelays: ackDelays)),
    ]
  }

  /// A path parameter, percent-decoded (a chatId may come as `5511…%40c.us`).
  private func parameter(_ name: String, _ context: some RequestContext) -> String {
    let raw = context.parameters.get(name) ?? ""
    return raw.removingPercentEncoding ?? raw
  }
}
