import Foundation

/// An `application/x-www-form-urlencoded` body as Stripe reads it: `+` is a space, the rest
/// percent-decoded, keys kept as written (`metadata[invoice]`).
enum FormBody {
  static func parse(_ data: Data) -> [String: String] {
    var fields: [String: String] = [:]
    for pair in String(decoding: data, as: UTF8.self).split(separator: "&") {
      let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      guard let name = decode(parts[0]), !name.isEmpty else { continue }
      fields[name] = parts.count > 1 ? decode(parts[1]) ?? "" : ""
    }
    return fields
  }

  private static func decode(_ text: Substring) -> String? {
    text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
  }
}
