import Foundation

/// Docker's timestamps: RFC 3339 with up to nine fractional digits (`2024-05-01T12:00:00.123456789Z`),
/// and `0001-01-01T00:00:00Z` for "never". Foundation's ISO 8601 parser takes at most three
/// fractional digits on some platforms, so the fraction is read here.
enum DockerTime {
  static func parse(_ text: String?) -> Date? {
    guard let text, !text.hasPrefix("0001-01-01") else { return nil }
    var whole = text
    var fraction = 0.0
    if let dot = text.firstIndex(of: ".") {
      let digits = text[text.index(after: dot)...].prefix { $0.isNumber }
      fraction = Double("0." + digits) ?? 0
      whole = String(text[..<dot]) + String(text[text.index(after: dot)...].dropFirst(digits.count))
    }
    guard let date = try? Date(whole, strategy: .iso8601) else { return nil }
    return date.addingTimeInterval(fraction)
  }
}
