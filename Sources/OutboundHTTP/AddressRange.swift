import Foundation

/// A block of IP addresses, `10.0.0.0/8` or `fd00::/8`: what `WHAGO_OUTBOUND_ALLOW` lists.
public struct AddressRange: Sendable, Equatable, CustomStringConvertible {
  /// The network's bytes: 4 for IPv4, 16 for IPv6.
  public let network: [UInt8]
  public let prefixLength: Int

  /// Reads `10.0.0.0/8`, `fd00::/8`, or a single address (`192.0.2.7`, a /32 or /128).
  public init(_ text: String) throws(AddressRangeError) {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let parts = trimmed.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
    guard let address = Self.bytes(of: String(parts[0])) else { throw AddressRangeError(text: trimmed) }
    let bits = address.count * 8
    var length = bits
    if parts.count == 2 {
      guard let given = Int(parts[1]), (0...bits).contains(given) else { throw AddressRangeError(text: trimmed) }
      length = given
    }
    network = address
    prefixLength = length
  }

  /// Whether `address` (4 or 16 bytes) is in the block; an IPv4 address is never in an IPv6 block.
  public func contains(_ address: [UInt8]) -> Bool {
    guard address.count == network.count else { return false }
    var remaining = prefixLength
    for (a, n) in zip(address, network) where remaining > 0 {
      let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
      if a & mask != n & mask { return false }
      remaining -= 8
    }
    return true
  }

  public var description: String { "\(Self.text(of: network))/\(prefixLength)" }

  /// The 4 or 16 bytes of an IP address written as text, or nil if it is not one.
  public static func bytes(of text: String) -> [UInt8]? {
    var v4 = in_addr()
    if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
    var v6 = in6_addr()
    if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
    return nil
  }

  /// An address's usual text (`10.1.2.3`, `fe80::1`).
  public static func text(of address: [UInt8]) -> String {
    var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
    let family = address.count == 4 ? AF_INET : AF_INET6
    let written = address.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
    return written == nil
      ? "?" : String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}

public struct AddressRangeError: Error, Sendable, CustomStringConvertible {
  public let text: String
  public var description: String {
    "'\(text.prefix(64))' is not an address range: write one like 10.0.0.0/8, 127.0.0.1 or fd00::/8"
  }
}
