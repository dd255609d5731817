/// One message WAHA accepted (answered 201). Only accepted sends are logged, never a timeout or a
/// 500, so a test counts "sent exactly once" straight from this log.
public struct LoggedMessage: Codable, Sendable, Equatable {
  public var session: String
  public var chatId: String
  /// The text, or the caption of an image or file.
  public var text: String
  public var id: String
  /// Milliseconds since 1970.
  public var time: Int
  /// The file's URL, for sendImage and sendFile.
  public var media_url: String?
}

extension LoggedMessage {
  /// WAHA's full id, `true_<chatId>_<id>`, by which acks and chat listings name the message; the send
  /// answered only the last part, so a client matches on that.
  var serializedID: String { "true_\(chatId)_\(id)" }

  /// How far its acks have got `now`: 0 PENDING, then 1 SERVER, 2 DEVICE, 3 READ as each of
  /// `ackDelays` passes, the same moments the `message.ack` webhooks are sent.
  func ack(now: Int, ackDelays: [Duration]) -> Int {
    ackDelays.prefix(3).filter { time + $0.milliseconds <= now }.count
  }
}
