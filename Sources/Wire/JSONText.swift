/// Writes JSON text by hand for the few answers sent thousands of times a second (a job accepted):
/// JSONEncoder with its snake_case conversion took an eighth of `serve`'s CPU under batch
/// submissions. The bytes are the same WireJSON writes: keys sorted, slashes unescaped.
public struct JSONText {
  public private(set) var bytes: [UInt8] = []

  public init(capacity: Int = 128) {
    bytes.reserveCapacity(capacity)
  }

  public mutating func raw(_ text: StaticString) {
    text.withUTF8Buffer { bytes.append(contentsOf: $0) }
  }

  public mutating func bool(_ value: Bool) {
    value ? raw("true") : raw("false")
  }

  /// A quoted string, escaped as JSONEncoder escapes: `"` and `\`, the short forms of \b \f \n
  /// \r \t, `\u00XX` for other control characters; everything else as it is.
  public mutating func string(_ value: String) {
    bytes.append(UInt8(ascii: "\""))
    if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
      bytes.append(contentsOf: value.utf8)
      bytes.append(UInt8(ascii: "\""))
      return
    }
    for byte in value.utf8 {
      switch byte {
      case UInt8(ascii: "\""): raw(#"\""#)
      case UInt8(ascii: "\\"): raw(#"\\"#)
      case 0x08: raw(#"\b"#)
      case 0x0C: raw(#"\f"#)
      case 0x0A: raw(#"\n"#)
      case 0x0D: raw(#"\r"#)
      case 0x09: raw(#"\t"#)
      case 0..<0x20:
        raw(#"\u00"#)
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        bytes.append(hex[Int(byte >> 4)])
        bytes.append(hex[Int(byte & 0xF)])
      default: bytes.append(byte)
      }
    }
    bytes.append(UInt8(ascii: "\""))
  }
}
