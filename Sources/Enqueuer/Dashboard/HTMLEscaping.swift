import Foundation

/// Escapes text for HTML element content and quoted attribute values. Every dynamic value on a
/// dashboard page goes through this: job payloads, errors and tenant names come from outside.
func html(_ value: some CustomStringConvertible) -> String {
  var out = ""
  for scalar in value.description.unicodeScalars {
    switch scalar {
    case "&": out += "&amp;"
    case "<": out += "&lt;"
    case ">": out += "&gt;"
    case "\"": out += "&quot;"
    case "'": out += "&#39;"
    default: out.unicodeScalars.append(scalar)
    }
  }
  return out
}

/// Percent-encodes one path segment or query value, so a queue name cannot change a link's shape.
func urlComponent(_ value: String) -> String {
  value.addingPercentEncoding(withAllowedCharacters: urlComponentAllowed) ?? ""
}

private let urlComponentAllowed = CharacterSet(
  charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

/// A fragment of an element id or class made of a dynamic name: ids must stay one token, so
/// anything but letters, digits, `-` and `_` becomes `_`.
func idToken(_ value: String) -> String {
  String(
    value.unicodeScalars.map { scalar -> Character in
      switch scalar {
      case "a"..."z", "A"..."Z", "0"..."9", "-", "_": Character(scalar)
      default: "_"
      }
    })
}
