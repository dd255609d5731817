import Foundation
import Hummingbird
import Wire

/// `/api/send*`, `/api/sendSeen`, `/api/startTyping|stopTyping` and `/api/contacts/check-exists`:
/// checked in WAHA's order (400 body, 404 session, 422 not WORKING), answered in NOWEB's shapes.
struct SendingRoutes {
  let simulator: Simulator

  func register(on api: RouterGroup<some RequestContext>) {
    api.post("sendText") { request, _ in try await send(request, kind: .text) }
    api.post("sendImage") { request, _ in try await send(request, kind: .image) }
    api.post("sendFile") { request, _ in try await send(request, kind: .file) }
    api.post("sendSeen") { request, _ in try await chatAction(request, answer: [:]) }
    api.post("startTyping") { request, _ in try await chatAction(request, answer: ["result": true]) }
    api.post("stopTyping") { request, _ in try await chatAction(request, answer: ["result": true]) }
    api.get("contacts/check-exists") { request, _ in try checkExists(request) }
  }

  private func send(_ request: Request, kind: SendRequest.Kind) async throws -> Response {
    let send = try SendRequest.message(try await Exchange.object(request), kind: kind)
    let time = nowMilliseconds()
    let id = Self.messageID()
    try simulator.accept(
      LoggedMessage(
        session: send.session, chatId: send.chatId, text: send.text, id: id, time: time, media_url: send.mediaURL))
    let message: JSONValue =
      switch kind {
      case .text: ["extendedTextMessage": ["text": JSONValue(send.text)]]
      case .image:
        [
          "imageMessage": [
            "url": JSONValue(send.mediaURL), "mimetype": JSONValue(send.mimetype), "caption": JSONValue(send.text),
          ]
        ]
      case .file:
        [
          "documentMessage": [
            "url": JSONValue(send.mediaURL), "mimetype": JSONValue(send.mimetype), "caption": JSONValue(send.text),
          ]
        ]
      }
    let remoteJid = send.chatId.replacingOccurrences(of: "@c.us", with: "@s.whatsapp.net")
    return Exchange.json(
      [
        "key": ["remoteJid": JSONValue(remoteJid), "fromMe": true, "id": JSONValue(id)], "message": message,
        "messageTimestamp": JSONValue(String(time / 1000)), "status": "PENDING",
      ], status: .created)
  }

  private func chatAction(_ request: Request, answer: JSONValue) async throws -> Response {
    let chat = try SendRequest.chat(try await Exchange.object(request))
    _ = try simulator.store.working(chat.session)
    return Exchange.json(answer, status: .created)
  }

  /// The rules are `PhoneDirectory`'s; the session must be WORKING, as WAHA asks WhatsApp itself.
  private func checkExists(_ request: Request) throws -> Response {
    let query = request.uri.queryParameters
    guard let phone = query.get("phone"), !phone.isEmpty else {
      throw SimulatedWAHAError.validation(["phone should not be empty"])
    }
    _ = try simulator.store.working(query.get("session") ?? "default")
    switch PhoneDirectory.lookUp(phone) {
    case .invalid:
      throw SimulatedWAHAError.validation(["phone must be a number of 8 to 15 digits, like 5511999999999"])
    case .notOnWhatsApp:
      return Exchange.json(["numberExists": false, "chatId": nil])
    case .exists(let chatId):
      return Exchange.json(["numberExists": true, "chatId": JSONValue(chatId)])
    }
  }

  /// NOWEB's ids: `3EB0` and 16 more uppercase hex digits.
  static func messageID() -> String {
    "3EB0" + (0..<16).map { _ in String(Int.random(in: 0..<16), radix: 16, uppercase: true) }.joined()
  }
}
