import Foundation

/// Hides the values of payload fields whose names say they are secrets, before a payload is shown
/// to a person: a page can be screenshotted, shared or left open on a screen, and an operator
/// reading a job never needs a key or a card number to understand it.
enum PayloadMask {
  static let shown = "••••••"

  /// A field is secret when its name (any case, `-` or `_`) is one of these or ends in `_key`,
  /// `_secret`, `_token` or `_password`.
  static let names: Set<String> = [
    "key", "secret", "password", "passwd", "token", "authorization", "api_key", "apikey", "access_token",
    "client_secret", "card", "card_number", "cvv", "cvc", "cpf", "cnpj",
  ]

  static func isSecret(_ name: String) -> Bool {
    let normal = name.lowercased().replacingOccurrences(of: "-", with: "_")
    return names.contains(normal) || ["_key", "_secret", "_token", "_password"].contains { normal.hasSuffix($0) }
  }

  /// `text` (JSON) pretty-printed with its secret fields' values replaced; text that is not JSON
  /// is shown as it is.
  static func pretty(_ text: String) -> String {
    guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]),
      let data = try? JSONSerialization.data(
        withJSONObject: masked(object),
        options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
    else { return text }
    return String(decoding: data, as: UTF8.self)
  }

  static func masked(_ value: Any) -> Any {
    if let object = value as? [String: Any] {
      var out: [String: Any] = [:]
      for (name, inner) in object {
        out[name] = isSecret(name) && !(inner is NSNull) ? shown : masked(inner)
      }
      return out
    }
    if let array = value as? [Any] { return array.map(masked) }
    return value
  }
}
