import Foundation

/// The one place where Swift names meet wire names. Properties are lowerCamelCase in Swift and
/// snake_case on the wire (`chipIds` is `chip_ids`, `periodStart` is `period_start`): API
/// responses, job payloads and the CLI's `--json` all go through these, so no type spells a
/// wire name by hand. Acronyms are written `Id`/`Url` in wire-facing types: the strategy reads
/// `chipIDs` as `chip_i_ds`.
///
/// Dictionary keys are data, not names, and pass through unchanged: a tenant's payload or a
/// `[String: Int]` of counts keeps its keys as written.
public enum WireJSON {
  /// Keys sorted, so the same value always encodes to the same bytes (diffs, caches, signatures);
  /// slashes left unescaped, so URLs read as URLs.
  public static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .custom { date, encoder in
      var container = encoder.singleValueContainer()
      try container.encode(time(date))
    }
    return encoder
  }()

  /// One shared decoder: creating one per job showed up in profiles.
  public static let decoder: JSONDecoder = {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    decoder.dateDecodingStrategy = .custom { decoder in
      let container = try decoder.singleValueContainer()
      let text = try container.decode(String.self)
      guard let date = date(text) else {
        throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 time: \(text)")
      }
      return date
    }
    return decoder
  }()

  /// A time as the wire writes times: RFC 3339, UTC, with milliseconds.
  public static func time(_ date: Date) -> String {
    time(Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
  }

  /// A Redis time (epoch milliseconds) as the wire writes times.
  public static func time(_ ms: Int64) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
  }

  /// An RFC 3339 time with a zone, with or without fractional seconds, as requests and payloads
  /// write them.
  public static func date(_ text: String) -> Date? {
    let plain = ISO8601DateFormatter()
    if let date = plain.date(from: text) { return date }
    let fractional = ISO8601DateFormatter()
    fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return fractional.date(from: text)
  }

  /// The encoding as text.
  public static func text(_ value: some Encodable) throws -> String {
    String(decoding: try encoder.encode(value), as: UTF8.self)
  }

  /// A Swift property name as its wire or column name, for error messages and JSON Pointers that
  /// name a field the way the client wrote it, and for rows decoded by column: `periodStart` is
  /// `period_start`; a run of capitals is one word, so `tenantID` is `tenant_id`.
  public static func wireName(_ name: String) -> String {
    var out = ""
    var previousWasUpper = false
    for character in name {
      if character.isUppercase {
        if !out.isEmpty && !previousWasUpper { out.append("_") }
        out.append(contentsOf: character.lowercased())
        previousWasUpper = true
      } else {
        out.append(character)
        previousWasUpper = false
      }
    }
    return out
  }
}
