import Foundation
import Synchronization
import Wire

/// The PaymentIntents the simulated Stripe made, in order, so `GET /v1/payment_intents/search`
/// finds a charge by its metadata long after its idempotency key was pruned.
final class StripeIntents: Sendable {
  private let intents = Mutex<[JSONValue]>([])

  func store(_ intent: JSONValue) { intents.withLock { $0.append(intent) } }

  /// The intents whose `metadata[field]` is `value`, newest first.
  func matching(metadata field: String, value: String) -> [JSONValue] {
    intents.withLock { all in all.reversed().filter { $0["metadata"]?[field]?.string == value } }
  }

  /// Reads the one query form the simulator supports: `metadata['field']:'value'` (either quote).
  static func metadataClause(_ query: String) -> (field: String, value: String)? {
    let text = query.trimmingCharacters(in: .whitespaces)
    guard text.hasPrefix("metadata["), let close = text.firstIndex(of: "]") else { return nil }
    let field = text[text.index(text.startIndex, offsetBy: "metadata[".count)..<close]
    let rest = text[text.index(after: close)...]
    guard rest.hasPrefix(":"), field.count >= 2 else { return nil }
    let value = rest.dropFirst()
    func unquote(_ part: Substring) -> String? {
      guard let first = part.first, first == "'" || first == "\"", part.count >= 2, part.last == first else {
        return nil
      }
      return String(part.dropFirst().dropLast())
    }
    guard let name = unquote(field), let wanted = unquote(value) else { return nil }
    return (name, wanted)
  }
}
