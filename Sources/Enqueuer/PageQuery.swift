import Hummingbird
import HummingbirdCore

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
