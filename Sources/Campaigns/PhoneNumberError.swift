/// Why a recipient's phone number was refused. Each description is written for the tenant who typed
/// the number, so an API response can show it as it is; none repeats the number itself.
public enum PhoneNumberError: Error, Sendable, Hashable, CustomStringConvertible {
  case empty
  case invalidCharacters
  /// Eight or nine digits: a Brazilian number written without its area code (DDD).
  case missingAreaCode
  case wrongLength(digits: Int)
  case unknownAreaCode(String)
  case unknownCountryCode(String)
  /// Eleven digits whose subscriber part does not start with 9; only mobiles have nine digits.
  case mobileMustStartWithNine
  /// Eight digits starting with 0 or 1: service and toll-free numbers, not a phone.
  case notASubscriberNumber
  /// A chat id of a group (`@g.us`), a channel or a hidden id (`@lid`): no phone number in it.
  case notAPersonalChat

  public var description: String {
    switch self {
    case .empty:
      "no phone number given"
    case .invalidCharacters:
      "only digits, spaces, dots, dashes, parentheses and a leading + may appear in a phone number"
    case .missingAreaCode:
      "the area code (DDD) is missing: write it before the number, as in (11) 99999-9999"
    case .wrongLength(let digits):
      "the number has \(digits) digits: a Brazilian number has 10 or 11 with its area code (DDD), "
        + "12 or 13 with the country code 55; other countries start with + and have 8 to 15"
    case .unknownAreaCode(let code):
      "\(code) is not a Brazilian area code (DDD)"
    case .unknownCountryCode(let code):
      "+\(code) is not a country calling code"
    case .mobileMustStartWithNine:
      "a number with 9 digits after the area code is a mobile and starts with 9"
    case .notASubscriberNumber:
      "a number with 8 digits after the area code starts with 2 to 5 (landline) or 6 to 9 (mobile)"
    case .notAPersonalChat:
      "the chat is a group, a channel or a hidden id, not a phone number"
    }
  }
}
