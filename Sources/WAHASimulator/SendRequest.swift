import Wire

/// A send's body, checked as WAHA checks it: every problem listed in one 400.
struct SendRequest: Sendable {
  enum Kind: String, Sendable { case text, image, file }

  var session: String
  var chatId: String
  var text: String
  var mediaURL: String?
  var mimetype: String?

  /// `{session, chatId}`: sendSeen, startTyping, stopTyping.
  static func chat(_ body: JSONValue) throws(SimulatedWAHAError) -> SendRequest {
    var problems: [String] = []
    let request = SendRequest(session: session(body), chatId: chatId(body, &problems), text: "")
    guard problems.isEmpty else { throw .validation(problems) }
    return request
  }

  /// sendText `{session, chatId, text}`, or sendImage / sendFile `{session, chatId, file, caption}`.
  static func message(_ body: JSONValue, kind: Kind) throws(SimulatedWAHAError) -> SendRequest {
    var problems: [String] = []
    var request = SendRequest(session: session(body), chatId: chatId(body, &problems), text: "")
    switch kind {
    case .text:
      switch body["text"] {
      case .string(let text) where !text.isEmpty: request.text = text
      case nil, .null, .string: problems.append("text should not be empty")
      default: problems.append("text must be a string")
      }
    case .image, .file:
      switch body["caption"] {
      case .string(let caption): request.text = caption
      case nil, .null: break
      default: problems.append("caption must be a string")
      }
      let file = body["file"]
      if let file, case .object = file {
        let url = file["url"]?.string
        if url == nil && file["data"]?.string == nil {
          problems.append("file.url or file.data should not be empty")
        } else if let url, !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
          problems.append("file.url must be a URL address")
        }
        request.mediaURL = url
        request.mimetype = file["mimetype"]?.string
      } else {
        problems.append("file should not be empty")
      }
    }
    guard problems.isEmpty else { throw .validation(problems) }
    return request
  }

  private static func session(_ body: JSONValue) -> String {
    body["session"]?.string ?? "default"
  }

  /// A contact's chatId: the international number without `+`, then `@c.us`.
  private static func chatId(_ body: JSONValue, _ problems: inout [String]) -> String {
    guard let chatId = body["chatId"]?.string, !chatId.isEmpty else {
      problems.append("chatId should not be empty")
      return ""
    }
    let number = chatId.hasSuffix("@c.us") ? chatId.dropLast(5) : ""
    guard (8...15).contains(number.count), number.allSatisfy({ $0.isASCII && $0.isNumber }) else {
      problems.append("chatId must be a phone number without + followed by @c.us, like 5511999999999@c.us")
      return chatId
    }
    return chatId
  }
}
