import Foundation
import Hummingbird
import HummingbirdCore
import Wire

/// `after` and `limit`, as every cursor-paginated list reads them: `after` is the previous page's
/// `next` (0 for the first), `limit` 1 to 1000 (100 by default).
enum PageQuery {
  static let defaultLimit = 100
  static let maxLimit = 1000

  static func read(_ query: FlatDictionary<Substring, Substring>, problems: inout [String]) -> (
    after: Int64, limit: Int
  ) {
    var after: Int64 = 0
    if let text = query["after"].map(String.init) {
      if let value = Int64(text), value >= 0 {
        after = value
      } else {
        problems.append("after must be a cursor from `next`")
      }
    }
    var limit = defaultLimit
    if let text = query["limit"].map(String.init) {
      if let value = Int(text), (1...maxLimit).contains(value) {
        limit = value
      } else {
        problems.append("limit must be a whole number from 1 to \(maxLimit)")
      }
    }
    return (after, limit)
  }

  /// Every value of `name` (repeated, or comma-separated) as one of `Choice`'s cases; a value
  /// that is none of them is a problem naming them all.
  static func choices<Choice: RawRepresentable<String> & CaseIterable>(
    _ query: FlatDictionary<Substring, Substring>, _ name: String, problems: inout [String]
  ) -> [Choice] {
    var found: [Choice] = []
    for text in query.getAll(name).flatMap({ $0.split(separator: ",") }) {
      if let choice = Choice(rawValue: String(text)) {
        found.append(choice)
      } else {
        problems.append(
          "unknown \(name) '\(text.prefix(60))'; the values are "
            + Choice.allCases.map(\.rawValue).joined(separator: ", "))
      }
    }
    return found
  }

  /// An RFC 3339 time, or nil when absent.
  static func time(_ query: FlatDictionary<Substring, Substring>, _ name: String, problems: inout [String]) -> Date? {
    guard let text = query[Substring(name)] else { return nil }
    guard let date = WireJSON.date(String(text)) else {
      problems.append("\(name) must be an RFC 3339 time such as 2026-12-01T00:00:00Z")
      return nil
    }
    return date
  }

  /// The two, or the 400 that says what is wrong with them.
  static func read(_ query: FlatDictionary<Substring, Substring>) throws(Problem) -> (after: Int64, limit: Int) {
    var problems: [String] = []
    let page = read(query, problems: &problems)
    guard problems.isEmpty else { throw invalid(problems) }
    return page
  }

  static func invalid(_ problems: [String]) -> Problem {
    Problem(.badRequest, "invalid-query", "The query does not validate", detail: problems.joined(separator: "; "))
  }
}
