import Foundation

/// Where the service may be told to send requests on a tenant's behalf: http(s), a host, no
/// credentials or fragment, and no loopback, private, link-local or unspecified address (a tenant
/// must not aim our requests at our own network), unless the operator allows them
/// (`WHAGO_WEBHOOKS_ALLOW_PRIVATE=1`, for a closed network or tests). Host names are checked as
/// written; one that resolves to a private address is the operator's to firewall.
enum OutboundURLRule {
  nonisolated(unsafe) static let shape =
    /[Hh][Tt][Tt][Pp][Ss]?:\/\/[A-Za-z0-9.\-]+(:[0-9]{1,5})?(\/[A-Za-z0-9._~%!$&'()*+,;=:@\/\-]*)?(\?[A-Za-z0-9._~%!$&'()*+,;=:@\/?\-]*)?/

  /// Why `text` may not be used, or nil.
  static func problem(_ text: String, allowPrivate: Bool) -> String? {
    // The shape openapi.yaml documents, checked as written: a host of letters, digits, dots and
    // hyphens (no IPv6 literal, no stray character a lenient parser would keep), a port, a path
    // and a query.
    guard text.wholeMatch(of: shape) != nil else {
      return
        "must be an http(s) URL: a host of letters, digits, dots and hyphens, then an optional port, path and query"
    }
    guard let parts = URLComponents(string: text), let scheme = parts.scheme?.lowercased(),
      scheme == "http" || scheme == "https", let host = parts.host?.lowercased(), !host.isEmpty,
      parts.user == nil, parts.password == nil, parts.fragment == nil
    else { return "must be an http(s) URL with a host, without credentials or a fragment" }
    if !allowPrivate && isPrivate(host) {
      return "must not point at a loopback, private or link-local address"
    }
    return nil
  }

  /// `text` with its scheme in lower case (`HTTP://` is `http://`), as the tables that keep URLs
  /// require.
  static func lowercasingScheme(_ text: String) -> String {
    guard var parts = URLComponents(string: text), let scheme = parts.scheme else { return text }
    parts.scheme = scheme.lowercased()
    return parts.string ?? text
  }

  static func isPrivate(_ host: String) -> Bool {
    let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
    if bare == "localhost" || bare.hasSuffix(".localhost") { return true }
    let octets = bare.split(separator: ".", omittingEmptySubsequences: false).map { UInt8($0) }
    if octets.count == 4, octets.allSatisfy({ $0 != nil }) {
      let o = octets.map { $0! }
      return o[0] == 127 || o[0] == 10 || o[0] == 0 || (o[0] == 172 && (16...31).contains(o[1]))
        || (o[0] == 192 && o[1] == 168) || (o[0] == 169 && o[1] == 254) || (o[0] == 100 && (64...127).contains(o[1]))
    }
    if bare.contains(":") {
      return bare == "::1" || bare == "::" || bare.hasPrefix("fc") || bare.hasPrefix("fd") || bare.hasPrefix("fe80")
        || bare.hasPrefix("::ffff:")
    }
    return false
  }
}
