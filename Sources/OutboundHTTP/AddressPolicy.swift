import Foundation

/// Which addresses requests made on a tenant's behalf (its WAHA, its webhooks) may connect to.
/// A tenant chooses those URLs, so without this it could aim our workers at our own network: a
/// cloud's metadata service (169.254.169.254), Redis on loopback, a private admin port. The check
/// runs on the address actually connected to, after DNS, so a name that resolves inward is
/// refused as surely as a literal; redirects are never followed, so there is no second hop to
/// check. Operators open their own WAHA network with `WHAGO_OUTBOUND_ALLOW`.
public struct AddressPolicy: Sendable, Equatable {
  public static let environmentVariable = "WHAGO_OUTBOUND_ALLOW"

  /// Ranges reachable even though they are internal.
  public var allowed: [AddressRange]

  public init(allowing allowed: [AddressRange] = []) {
    self.allowed = allowed
  }

  /// Reads a comma-separated list of ranges (`10.0.0.0/8,127.0.0.0/8`); empty allows nothing more.
  public init(allowList text: String) throws(AddressRangeError) {
    var ranges: [AddressRange] = []
    for item in text.split(separator: ",") where !item.trimmingCharacters(in: .whitespaces).isEmpty {
      ranges.append(try AddressRange(String(item)))
    }
    self.init(allowing: ranges)
  }

  /// The policy `WHAGO_OUTBOUND_ALLOW` in `environment` describes.
  public init(environment: [String: String]) throws(AddressRangeError) {
    try self.init(allowList: environment[Self.environmentVariable] ?? "")
  }

  /// Loopback, private, shared (carrier NAT), link-local, unspecified, benchmarking, multicast
  /// and reserved blocks: nothing a tenant's WAHA or webhook receiver on the internet lives in.
  public static let internalRanges: [AddressRange] = [
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
    "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128", "fc00::/7", "fe80::/10",
    "ff00::/8",
  ].map { try! AddressRange($0) }

  /// Whether a connection to `address` (4 or 16 bytes) may be made.
  public func permits(_ address: [UInt8]) -> Bool {
    // An IPv4 address written as IPv6 (::ffff:127.0.0.1) is judged as the IPv4 address it is.
    if address.count == 16, address.prefix(10).allSatisfy({ $0 == 0 }), address[10] == 0xFF, address[11] == 0xFF {
      return permits(Array(address.suffix(4)))
    }
    if allowed.contains(where: { $0.contains(address) }) { return true }
    return !Self.internalRanges.contains { $0.contains(address) }
  }

  /// Why a URL's host may not be used, judged as written (at the door, before any DNS), or nil.
  /// A name is judged when connecting; `localhost` is loopback whatever resolves it.
  public func refusal(host: String) -> String? {
    let bare = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
    let address =
      bare == "localhost" || bare.hasSuffix(".localhost") ? [127, 0, 0, 1] : AddressRange.bytes(of: bare)
    guard let address, !permits(address) else { return nil }
    return "\(AddressRange.text(of: address)) is a loopback, private or link-local address; "
      + "operators allow their own networks with \(Self.environmentVariable)"
  }
}
