/// Who is on WhatsApp, by rules a test can rely on instead of a real directory:
///
/// - a number ending in `0000` is not on WhatsApp (a deterministic non-WhatsApp number);
/// - a Brazilian mobile with the ninth digit (`55` + area + `9` + 8 digits, 13 digits) exists as given;
/// - the same number without the ninth digit (`55` + area + 8 digits, 12 digits) exists, and its
///   chatId is the 13-digit one, which is the chatId a client must then send to;
/// - any other number of 8 to 15 digits exists as given.
public enum PhoneDirectory {
  public enum Answer: Equatable, Sendable {
    case exists(chatId: String)
    case notOnWhatsApp
    /// Not a phone number at all: WAHA answers 400.
    case invalid
  }

  public static func lookUp(_ phone: String) -> Answer {
    var digits = Substring(phone.filter { $0 != " " && $0 != "-" && $0 != "(" && $0 != ")" })
    if digits.hasPrefix("+") { digits = digits.dropFirst() }
    if digits.hasSuffix("@c.us") { digits = digits.dropLast(5) }
    guard (8...15).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return .invalid }
    if digits.hasSuffix("0000") { return .notOnWhatsApp }
    if digits.count == 12 && digits.hasPrefix("55") {
      let area = digits.prefix(4)
      return .exists(chatId: "\(area)9\(digits.dropFirst(4))@c.us")
    }
    return .exists(chatId: "\(digits)@c.us")
  }
}
