import Foundation

/// Ids as Docker makes them: 64 lowercase hex digits.
enum SimIDs {
  static func containerID() -> String {
    (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
  }

  /// A stable 64-hex digest of `text` (an image's id from its name); not cryptographic, only stable.
  static func digest(_ text: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    var words: [UInt64] = []
    for round in 0..<4 {
      for byte in Array(text.utf8) + [UInt8(round)] {
        hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
      }
      words.append(hash)
    }
    return words.map { String(format: "%016llx", $0) }.joined()
  }

  /// Docker's rule for names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
  static func isValidName(_ name: String) -> Bool {
    let bytes = Array(name.utf8)
    guard bytes.count >= 2, isAlphanumeric(bytes[0]) else { return false }
    return bytes.dropFirst().allSatisfy {
      isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
    }
  }

  private static func isAlphanumeric(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
      || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
  }
}
