import Foundation

/// `application/x-www-form-urlencoded` fields (a form body or a query string). A name may repeat
/// (`id=a&id=b`), which is how one form sends several dead jobs at once.
struct FormFields: Sendable {
  private(set) var pairs: [(name: String, value: String)] = []

  init(_ encoded: String?) {
    guard let encoded else { return }
    for part in encoded.split(separator: "&", omittingEmptySubsequences: true) {
      let halves = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let name = Self.decode(halves[0])
      if name.isEmpty { continue }
      pairs.append((name, halves.count > 1 ? Self.decode(halves[1]) : ""))
    }
  }

  /// The first value of `name`, trimmed; nil when absent or blank.
  subscript(_ name: String) -> String? {
    guard let value = pairs.first(where: { $0.name == name })?.value.trimmingCharacters(in: .whitespacesAndNewlines),
      !value.isEmpty
    else { return nil }
    return value
  }

  /// Every non-blank value of `name`, in order.
  func all(_ name: String) -> [String] {
    pairs.filter { $0.name == name }.map { $0.value.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
  }

  private static func decode(_ text: Substring) -> String {
    let spaced = text.replacingOccurrences(of: "+", with: " ")
    return spaced.removingPercentEncoding ?? spaced
  }
}

extension FormFields {
  /// The fields again, form-encoded, without `names`: a page's address minus its one-time flash.
  func encoded(excluding names: Set<String>) -> String {
    pairs.filter { !names.contains($0.name) }.map { "\(urlComponent($0.name))=\(urlComponent($0.value))" }
      .joined(separator: "&")
  }
}
