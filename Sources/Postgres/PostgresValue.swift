import Foundation

/// A value bound to a `$n` parameter. Every parameter travels as text in libpq's parameter array,
/// never spliced into the SQL, so no input can change a statement.
public protocol PostgresEncodable: Sendable {
  /// The value in PostgreSQL's text input format; nil is SQL NULL.
  var postgresText: String? { get }
}

/// A value read from a column in PostgreSQL's text output format (the session runs in UTC, ISO dates).
public protocol PostgresDecodable {
  init(postgresText text: String) throws(PostgresError)
}

extension String: PostgresEncodable, PostgresDecodable {
  public var postgresText: String? { self }
  public init(postgresText text: String) { self = text }
}

extension Int: PostgresEncodable, PostgresDecodable {
  public var postgresText: String? { String(self) }
  public init(postgresText text: String) throws(PostgresError) {
    guard let value = Int(text) else { throw PostgresError(.decode, "'\(text.prefix(40))' is not an integer") }
    self = value
  }
}

extension Int64: PostgresEncodable, PostgresDecodable {
  public var postgresText: String? { String(self) }
  public init(postgresText text: String) throws(PostgresError) {
    guard let value = Int64(text) else { throw PostgresError(.decode, "'\(text.prefix(40))' is not an integer") }
    self = value
  }
}

extension Double: PostgresEncodable, PostgresDecodable {
  public var postgresText: String? { String(self) }
  public init(postgresText text: String) throws(PostgresError) {
    guard let value = Double(text) else { throw PostgresError(.decode, "'\(text.prefix(40))' is not a number") }
    self = value
  }
}

extension Bool: PostgresEncodable, PostgresDecodable {
  public var postgresText: String? { self ? "t" : "f" }
  public init(postgresText text: String) throws(PostgresError) {
    switch text {
    case "t", "true": self = true
    case "f", "false": self = false
    default: throw PostgresError(.decode, "'\(text.prefix(40))' is not a boolean")
    }
  }
}

extension Data: PostgresEncodable, PostgresDecodable {
  /// bytea in hex form: `\x0a1b…`.
  public var postgresText: String? {
    "\\x" + map { byte in String(byte, radix: 16).leftPadded(to: 2) }.joined()
  }

  public init(postgresText text: String) throws(PostgresError) {
    guard text.hasPrefix("\\x"), text.utf8.count % 2 == 0 else {
      throw PostgresError(.decode, "bytea is not in hex form")
    }
    var bytes = [UInt8]()
    bytes.reserveCapacity(text.utf8.count / 2 - 1)
    var high: UInt8?
    for c in text.utf8.dropFirst(2) {
      let nibble: UInt8
      switch c {
      case 48...57: nibble = c - 48
      case 97...102: nibble = c - 87
      case 65...70: nibble = c - 55
      default: throw PostgresError(.decode, "bytea holds a non-hex character")
      }
      if let h = high {
        bytes.append(h << 4 | nibble)
        high = nil
      } else {
        high = nibble
      }
    }
    self = Data(bytes)
  }
}

extension Date: PostgresEncodable, PostgresDecodable {
  public var postgresText: String? {
    let ms = (timeIntervalSince1970 * 1000).rounded()
    return PostgresTimestamp.format(epochMilliseconds: Int64(ms))
  }

  public init(postgresText text: String) throws(PostgresError) {
    self = Date(timeIntervalSince1970: try PostgresTimestamp.parse(text))
  }
}

extension Array: PostgresEncodable where Element == Int {
  /// An int[] literal: `{1,2,3}`.
  public var postgresText: String? { "{" + map(String.init).joined(separator: ",") + "}" }
}

extension Array: PostgresDecodable where Element == Int {
  public init(postgresText text: String) throws(PostgresError) {
    guard text.hasPrefix("{"), text.hasSuffix("}") else {
      throw PostgresError(.decode, "'\(text.prefix(40))' is not an array")
    }
    let body = text.dropFirst().dropLast()
    if body.isEmpty {
      self = []
      return
    }
    var result: [Int] = []
    for part in body.split(separator: ",") {
      guard let value = Int(part) else { throw PostgresError(.decode, "'\(part.prefix(40))' is not an integer") }
      result.append(value)
    }
    self = result
  }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
  public var postgresText: String? { self.flatMap(\.postgresText) }
}

/// A value that is SQL NULL whatever its column's type.
public struct SQLNull: PostgresEncodable {
  public init() {}
  public var postgresText: String? { nil }
}

/// timestamptz in and out of PostgreSQL's ISO text form, without a Calendar per row.
enum PostgresTimestamp {
  static func format(epochMilliseconds ms: Int64) -> String {
    let days = Int64((Double(ms) / 86_400_000).rounded(.down))
    let msOfDay = ms - days * 86_400_000
    let (y, m, d) = civil(fromDays: days)
    let h = msOfDay / 3_600_000
    let mi = msOfDay / 60_000 % 60
    let s = msOfDay / 1000 % 60
    let frac = msOfDay % 1000
    func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
    let fracText = String(frac).leftPadded(to: 3)
    // Four-digit years (PostgreSQL reads `28-04-03` as a two-digit year and refuses it), and
    // PostgreSQL's spelling of years before 1: year 0 is `0001 … BC`.
    let era = y <= 0 ? " BC" : ""
    let year = String(y <= 0 ? 1 - y : y).leftPadded(to: 4)
    return "\(year)-\(two(m))-\(two(d)) \(two(h)):\(two(mi)):\(two(s)).\(fracText)+00\(era)"
  }

  /// Seconds since 1970 from `2026-11-29 04:44:37.123456+00` (or `…+05:30`, or `T` as separator).
  static func parse(_ text: String) throws(PostgresError) -> Double {
    let bytes = Array(text.utf8)
    var i = 0
    func number(_ digits: Int) throws(PostgresError) -> Int64 {
      guard i + digits <= bytes.count else { throw PostgresError(.decode, "'\(text)' is not a timestamp") }
      var v: Int64 = 0
      for _ in 0..<digits {
        let c = bytes[i]
        guard c >= 48 && c <= 57 else { throw PostgresError(.decode, "'\(text)' is not a timestamp") }
        v = v * 10 + Int64(c - 48)
        i += 1
      }
      return v
    }
    func skip() { i += 1 }
    var y = try number(4)
    // Years past 9999 have more digits.
    while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
      y = y * 10 + Int64(bytes[i] - 48)
      i += 1
    }
    if text.hasSuffix(" BC") { y = 1 - y }
    skip()
    let mo = try number(2)
    skip()
    let d = try number(2)
    skip()
    let h = try number(2)
    skip()
    let mi = try number(2)
    skip()
    let s = try number(2)
    var fraction = 0.0
    if i < bytes.count, bytes[i] == 46 {
      skip()
      var scale = 0.1
      while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
        fraction += Double(bytes[i] - 48) * scale
        scale /= 10
        i += 1
      }
    }
    var offset: Int64 = 0
    if i < bytes.count, bytes[i] == 43 || bytes[i] == 45 {
      let sign: Int64 = bytes[i] == 45 ? -1 : 1
      skip()
      let oh = try number(2)
      var om: Int64 = 0
      if i < bytes.count, bytes[i] == 58 {
        skip()
        om = try number(2)
      }
      offset = sign * (oh * 3600 + om * 60)
    }
    let days = days(fromCivil: y, m: mo, d: d)
    let seconds = days * 86_400 + h * 3600 + mi * 60 + s - offset
    return Double(seconds) + fraction
  }

  /// Howard Hinnant's days-from-civil.
  static func days(fromCivil y0: Int64, m: Int64, d: Int64) -> Int64 {
    let y = m <= 2 ? y0 - 1 : y0
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }

  static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
    let z = z0 + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
  }
}

extension String {
  func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
}

/// A state column (`campaigns.status`, `invoices.status`, …) read and written as its Swift enum:
/// the enum's raw values are the column's CHECK list, so a value outside it fails loudly on read.
public protocol PostgresState: RawRepresentable<String>, PostgresEncodable, PostgresDecodable, Codable,
  CustomStringConvertible, CaseIterable
{}

extension PostgresState {
  public var postgresText: String? { rawValue }
  public var description: String { rawValue }

  public init(postgresText text: String) throws(PostgresError) {
    guard let value = Self(rawValue: text) else {
      throw PostgresError(.decode, "'\(text.prefix(40))' is not a \(Self.self) (\(Self.allCases.map(\.rawValue)))")
    }
    self = value
  }
}
