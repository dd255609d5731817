/// A recipient's number in E.164, checked against Brazil's numbering plan when it is Brazilian.
///
/// Tenants paste numbers from spreadsheets in every spelling: `+55 (11) 99999-9999`,
/// `5511999999999`, `011 99999-9999`, `(11) 9999-9999`. Normalizing once, at upload, lets duplicates
/// be found, opt-outs be matched and a wrong number be reported before a credit is spent. Numbers
/// without `+` are read in the default country (Brazil).
///
/// `description` is the masked form, so a phone number interpolated into a log line never leaks
/// in full (LGPD).
public struct PhoneNumber: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
  /// The country calling code, without `+`: `55` for Brazil.
  public let countryCode: String
  /// The digits after the country code; for Brazil the area code (DDD) and the subscriber number.
  public let nationalNumber: String
  /// An eight-digit Brazilian mobile from before the ninth digit (2012–2016). WhatsApp still knows
  /// some of these accounts without the 9, others with it, so the number is kept as given and
  /// WAHA's `check-exists` decides the chatId before the first message.
  public let mayNeedNinthDigit: Bool

  /// Reads a number as people write it; without `+` it belongs to `defaultCountryCode`.
  public init(parsing text: String, defaultCountryCode: String = "55") throws(PhoneNumberError) {
    var digits = ""
    var international = false
    for character in text {
      if let ascii = character.asciiValue, (0x30...0x39).contains(ascii) {
        digits.append(character)
      } else if character == "+" && digits.isEmpty && !international {
        international = true
      } else if !Self.isSeparator(character) {
        throw .invalidCharacters
      }
    }
    guard !digits.isEmpty else { throw .empty }
    if !international && digits.hasPrefix("00") {
      international = true
      digits.removeFirst(2)
    }
    if international {
      self = try Self.international(digits)
    } else if defaultCountryCode == Self.brazil {
      self = try Self.brazilianWithoutPlus(digits)
    } else {
      let national = digits.hasPrefix("0") ? String(digits.dropFirst()) : digits
      self = try Self.international(defaultCountryCode + national)
    }
  }

  /// Reads a WhatsApp chat id (`5511999999999@c.us`, `…@s.whatsapp.net`), as webhooks name the
  /// sender, so that a reply can be matched to a recipient.
  public init(chatId: String) throws(PhoneNumberError) {
    let parts = chatId.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
    if parts.count == 2 && parts[1] != "c.us" && parts[1] != "s.whatsapp.net" { throw .notAPersonalChat }
    let user = String(parts[0])
    guard !user.isEmpty else { throw .empty }
    guard user.allSatisfy({ $0.isASCII && $0.isWholeNumber }) else { throw .invalidCharacters }
    self = try Self.international(user)
  }

  private init(countryCode: String, nationalNumber: String, mayNeedNinthDigit: Bool = false) {
    self.countryCode = countryCode
    self.nationalNumber = nationalNumber
    self.mayNeedNinthDigit = mayNeedNinthDigit
  }

  /// `+5511999999999`: the form stored and shown to the tenant.
  public var e164: String { "+" + countryCode + nationalNumber }

  /// `5511999999999@c.us`: WAHA's chat id for this number as given. For a number that
  /// `mayNeedNinthDigit`, ask `check-exists` for the chat id instead.
  public var chatId: String { countryCode + nationalNumber + "@c.us" }

  public var isBrazilian: Bool { countryCode == Self.brazil }

  /// `55 11 999999999`: the form for a spreadsheet cell. Excel reads `+5511999999999` as a
  /// formula or a number in scientific notation; a cell that starts with a digit and holds a space
  /// stays text, and every digit stays visible.
  public var spreadsheetText: String {
    if let areaCode { return "\(countryCode) \(areaCode) \(nationalNumber.dropFirst(2))" }
    return "\(countryCode) \(nationalNumber)"
  }

  /// The Brazilian area code (DDD), or nil for other countries.
  public var areaCode: String? { isBrazilian ? String(nationalNumber.prefix(2)) : nil }

  /// The number as the line is dialled today: an old eight-digit mobile gains its ninth digit.
  /// Two spellings of one phone are one recipient, and an opt-out sent from either spelling
  /// applies to both, so compare numbers by this form.
  public var withNinthDigit: PhoneNumber {
    guard mayNeedNinthDigit, let areaCode else { return self }
    return PhoneNumber(countryCode: countryCode, nationalNumber: areaCode + "9" + nationalNumber.dropFirst(2))
  }

  /// Every E.164 spelling this number may be stored under, the one dialled today first: a
  /// Brazilian mobile written with or without its ninth digit is one number, so finding or
  /// erasing it looks for both.
  public var storedSpellings: [String] {
    let today = withNinthDigit.e164
    return today == e164 ? [today] : [today, e164]
  }

  /// `+55 11 9****-9999`: enough to tell numbers apart in a log line, not enough to call one.
  public var masked: String {
    if let areaCode {
      let subscriber = nationalNumber.dropFirst(2)
      let hidden = String(repeating: "*", count: subscriber.count - 5)
      return "+\(countryCode) \(areaCode) \(subscriber.prefix(1))\(hidden)-\(subscriber.suffix(4))"
    }
    guard nationalNumber.count > 5 else {
      return "+\(countryCode) " + String(repeating: "*", count: nationalNumber.count)
    }
    let hidden = String(repeating: "*", count: nationalNumber.count - 5)
    return "+\(countryCode) \(nationalNumber.prefix(1))\(hidden)\(nationalNumber.suffix(4))"
  }

  public var description: String { masked }
  public var debugDescription: String { "PhoneNumber(\(masked))" }

  private static let brazil = "55"
  private static let longestInternationalNumber = 15
  private static let shortestNationalNumber = 4
  /// The shortest number, country code included, that `campaign_messages` and `opt_outs` store.
  private static let shortestInternationalNumber = 8

  private static func isSeparator(_ character: Character) -> Bool {
    character.isWhitespace || ".-()/".contains(character)
  }

  /// Digits that start with their country code (after `+`, `00`, or in a chat id).
  private static func international(_ digits: String) throws(PhoneNumberError) -> PhoneNumber {
    guard !digits.hasPrefix("0") else { throw .unknownCountryCode(String(digits.prefix(1))) }
    guard (shortestInternationalNumber...longestInternationalNumber).contains(digits.count) else {
      throw .wrongLength(digits: digits.count)
    }
    let code = String(digits.prefix(CountryCallingCode.length(of: digits)))
    let national = String(digits.dropFirst(code.count))
    if code == brazil {
      guard national.count == 10 || national.count == 11 else { throw .wrongLength(digits: digits.count) }
      return try brazilian(national)
    }
    guard national.count >= shortestNationalNumber else { throw .wrongLength(digits: digits.count) }
    return PhoneNumber(countryCode: code, nationalNumber: national)
  }

  /// Brazilian digits without `+`: national (`11999999999`), with the trunk prefix and perhaps a
  /// carrier code (`011…`, `01511…`), or with the country code but no `+` (`5511999999999`).
  private static func brazilianWithoutPlus(_ digits: String) throws(PhoneNumberError) -> PhoneNumber {
    var national = digits
    if national.hasPrefix("0") {
      national.removeFirst()
      if national.count == 12 || national.count == 13 { national.removeFirst(2) }
    } else if (national.count == 12 || national.count == 13) && national.hasPrefix(brazil) {
      national.removeFirst(2)
    }
    switch national.count {
    case 10, 11: return try brazilian(national)
    case 8, 9: throw .missingAreaCode
    default: throw .wrongLength(digits: digits.count)
    }
  }

  /// Area code and subscriber number (10 or 11 digits), checked against Brazil's numbering plan.
  private static func brazilian(_ national: String) throws(PhoneNumberError) -> PhoneNumber {
    let areaCode = national.prefix(2)
    guard BrazilianAreaCodes.contains(areaCode) else { throw .unknownAreaCode(String(areaCode)) }
    let subscriber = national.dropFirst(2)
    let first = subscriber.first ?? "0"
    if subscriber.count == 9 {
      guard first == "9" else { throw .mobileMustStartWithNine }
      return PhoneNumber(countryCode: brazil, nationalNumber: national)
    }
    switch first {
    case "2"..."5": return PhoneNumber(countryCode: brazil, nationalNumber: national)
    case "6"..."9": return PhoneNumber(countryCode: brazil, nationalNumber: national, mayNeedNinthDigit: true)
    default: throw .notASubscriberNumber
    }
  }
}

extension PhoneNumber: Codable {
  /// Encoded as its E.164 string, the one spelling every other system reads.
  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    do {
      self = try PhoneNumber(parsing: text)
    } catch {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(e164)
  }
}
