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
