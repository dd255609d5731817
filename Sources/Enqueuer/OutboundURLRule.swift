import Foundation
import OutboundHTTP

/// Where the service may be told to send requests on a tenant's behalf: http(s), a host, no
/// credentials or fragment, and no loopback, private, link-local or unspecified address written
/// into it unless the operator allows that network (`WHAGO_OUTBOUND_ALLOW`). A host name is
/// judged where it matters, by the workers, on the address it resolves to when they connect.
enum OutboundURLRule {
  nonisolated(unsafe) static let shape =
    /[Hh][Tt][Tt][Pp][Ss]?:\/\/[A-Za-z0-9.\-]+(:[0-9]{1,5})?(\/[A-Za-z0-9._~%!$&'()*+,;=:@\/\-]*)?(\?[A-Za-z0-9._~%!$&'()*+,;=:@\/?\-]*)?/

  /// Why `text` may not be used, or nil.
  static func problem(_ text: String, policy: AddressPolicy) -> String? {
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
    return policy.refusal(host: host).map { "must not point at our own network: \($0)" }
  }

  /// `text` with its scheme in lower case (`HTTP://` is `http://`), as the tables that keep URLs
  /// require.
  static func lowercasingScheme(_ text: String) -> String {
    guard var parts = URLComponents(string: text), let scheme = parts.scheme else { return text }
    parts.scheme = scheme.lowercased()
    return parts.string ?? text
  }
}
