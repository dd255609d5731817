/// Why a tenant's sending window cannot be used; each description says what to write instead.
public enum SendingWindowError: Error, Sendable, Hashable, CustomStringConvertible {
  case unknownTimeZone(String)
  case invalidTime(String)
  /// The end is not after the start. Windows across midnight are refused: sending through the
  /// night is what a person would not do.
  case endNotAfterStart(start: String, end: String)
  case noDays
  case invalidDay(Int)

  public var description: String {
    switch self {
    case .unknownTimeZone(let name):
      "\(name) is not an IANA timezone such as America/Sao_Paulo"
    case .invalidTime(let text):
      "\(text) is not a time of day: write HH:mm, 00:00 to 24:00"
    case .endNotAfterStart(let start, let end):
      "the window ends (\(end)) before it starts (\(start)); windows cannot cross midnight"
    case .noDays:
      "the window has no days to send on"
    case .invalidDay(let day):
      "\(day) is not a day of the week: use 1 (Monday) to 7 (Sunday)"
    }
  }
}
