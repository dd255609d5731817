/// One message of a chat as `GET /api/{session}/chats/{chatId}/messages` lists it. A sender whose
/// answer was lost (a timeout, a crash) looks for its message here before it sends again, since a
/// WAHA that timed out may have sent the message anyway.
public struct ChatMessage: Decodable, Sendable, Equatable {
  /// `{fromMe}_{chatId}_{id}`, e.g. `true_5511999999999@c.us_3EB08A…`.
  public var id: String
  /// Unix seconds.
  public var timestamp: Int64
  public var fromMe: Bool
  /// The text, or a media message's caption.
  public var body: String?
  public var hasMedia: Bool?
  /// -1 ERROR, 0 PENDING, 1 SERVER, 2 DEVICE, 3 READ, 4 PLAYED; engines may leave it out.
  public var ack: Int?

  public init(
    id: String, timestamp: Int64, fromMe: Bool, body: String?, hasMedia: Bool? = nil, ack: Int? = nil
  ) {
    self.id = id
    self.timestamp = timestamp
    self.fromMe = fromMe
    self.body = body
    self.hasMedia = hasMedia
    self.ack = ack
  }

  /// The message's own id, the part a send answers with (`SentMessage.id`) and acks match on: the
  /// third of `{fromMe}_{chatId}_{id}`, which in a group is followed by `_{participant}`, so not
  /// always the last. Chat ids hold no `_`.
  public var shortID: String {
    let parts = id.split(separator: "_", omittingEmptySubsequences: false)
    return parts.count >= 3 ? String(parts[2]) : String(parts.last ?? Substring(id))
  }
}
