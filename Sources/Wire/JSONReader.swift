/// Reads JSON text (RFC 8259) straight from its UTF-8 bytes into a `JSONValue`.
///
/// Why not JSONSerialization: it builds Foundation objects (`NSNumber`, bridged dictionaries) that
/// then had to be cast back value by value, and under a load of batch submissions the casts took a
/// third of `serve`'s CPU, the parse itself a sixth. This reader makes the values once.
///
/// Numbers keep JSONValue's rules: an integer literal within Int64 is `.int`; any other number is
/// read as a Double and is `.int` when integral and within Int64 (54.0 is an integer to JSON
/// Schema), else `.double`. Nesting deeper than `maxDepth` is refused rather than recursed into.
struct JSONReader {
  static let maxDepth = JSONValue.maxNesting

  private let bytes: [UInt8]
  private var at = 0
  private var depth = 0

  init(_ bytes: [UInt8]) {
    self.bytes = bytes
  }

  static func read(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
    var reader = JSONReader(bytes)
    reader.skipSpace()
    let value = try reader.value()
    reader.skipSpace()
    if reader.at < bytes.count { throw reader.failure("unexpected text after the JSON value") }
    return value
  }

  private func failure(_ reason: String) -> JSONParseError {
    JSONParseError(reason: "\(reason) at byte \(at)")
  }

  private mutating func skipSpace() {
    while at < bytes.count {
      switch bytes[at] {
      case 0x20, 0x09, 0x0A, 0x0D: at += 1
      default: return
      }
    }
  }

  private mutating func value() throws(JSONParseError) -> JSONValue {
    guard at < bytes.count else { throw failure("the JSON text ends where a value was expected") }
    switch bytes[at] {
    case UInt8(ascii: "{"): return try object()
    case UInt8(ascii: "["): return try array()
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"): try literal("true"); return .bool(true)
    case UInt8(ascii: "f"): try literal("false"); return .bool(false)
    case UInt8(ascii: "n"): try literal("null"); return .null
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
    default: throw failure("unexpected character where a value was expected")
    }
  }

  private mutating func literal(_ word: String) throws(JSONParseError) {
    for byte in word.utf8 {
      guard at < bytes.count, bytes[at] == byte else { throw failure("invalid literal") }
      at += 1
    }
  }

  private mutating func enter() throws(JSONParseError) {
    depth += 1
    if depth > Self.maxDepth { throw failure("nested deeper than \(Self.maxDepth) levels") }
    at += 1
    skipSpace()
  }

  private mutating func object() throws(JSONParseError) -> JSONValue {
    try enter()
    defer { depth -= 1 }
    var fields: [String: JSONValue] = [:]
    if at < bytes.count, bytes[at] == UInt8(ascii: "}") {
      at += 1
      return .object(fields)
    }
    while true {
      guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw failure("expected a quoted key") }
      let key = try string()
      skipSpace()
      guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { throw failure("expected ':' after a key") }
      at += 1
      skipSpace()
      fields[key] = try value()
      skipSpace()
      guard at < bytes.count else { throw failure("the JSON text ends inside an object") }
      switch bytes[at] {
      case UInt8(ascii: ","):
        at += 1
        skipSpace()
      case UInt8(ascii: "}"):
        at += 1
        return .object(fields)
      default: throw failure("expected ',' or '}' in an object")
      }
    }
  }

  private mutating func array() throws(JSONParseError) -> JSONValue {
    try enter()
    defer { depth -= 1 }
    var items: [JSONValue] = []
    if at < bytes.count, bytes[at] == UInt8(ascii: "]") {
      at += 1
      return .array(items)
    }
    while true {
      items.append(try value())
      skipSpace()
      guard at < bytes.count else { throw failure("the JSON text ends inside an array") }
      switch bytes[at] {
      case UInt8(ascii: ","):
        at += 1
        skipSpace()
      case UInt8(ascii: "]"):
        at += 1
        return .array(items)
      default: throw failure("expected ',' or ']' in an array")
      }
    }
  }

  /// A quoted string; `at` is on its opening quote. Unescaped runs are copied as they are, after
  /// checking that they are UTF-8 and hold no control character.
  private mutating func string() throws(JSONParseError) -> String {
    at += 1
    let start = at
    // The common case: no escapes.
    while at < bytes.count {
      let byte = bytes[at]
      if byte == UInt8(ascii: "\"") {
        let text = try utf8(start..<at)
        at += 1
        return text
      }
      if byte == UInt8(ascii: "\\") { break }
      if byte < 0x20 { throw failure("control character in a string") }
      at += 1
    }
    var scalars = try utf8(start..<at)
    while at < bytes.count {
      let byte = bytes[at]
      switch byte {
      case UInt8(ascii: "\""):
        at += 1
        return scalars
      case UInt8(ascii: "\\"):
        at += 1
        guard at < bytes.count else { break }
        let escape = bytes[at]
        at += 1
        switch escape {
        case UInt8(ascii: "\""): scalars.append("\"")
        case UInt8(ascii: "\\"): scalars.append("\\")
        case UInt8(ascii: "/"): scalars.append("/")
        case UInt8(ascii: "b"): scalars.append("\u{08}")
        case UInt8(ascii: "f"): scalars.append("\u{0C}")
        case UInt8(ascii: "n"): scalars.append("\n")
        case UInt8(ascii: "r"): scalars.append("\r")
        case UInt8(ascii: "t"): scalars.append("\t")
        case UInt8(ascii: "u"): scalars.unicodeScalars.append(try unicodeEscape())
        default: throw failure("invalid escape in a string")
        }
      default:
        let run = at
        while at < bytes.count, bytes[at] != UInt8(ascii: "\""), bytes[at] != UInt8(ascii: "\\") {
          if bytes[at] < 0x20 { throw failure("control character in a string") }
          at += 1
        }
        scalars += try utf8(run..<at)
      }
    }
    throw failure("the JSON text ends inside a string")
  }

  private func utf8(_ range: Range<Int>) throws(JSONParseError) -> String {
    guard let text = String(validating: bytes[range], as: UTF8.self) else {
      throw failure("a string is not valid UTF-8")
    }
    return text
  }

  /// `\uXXXX`, `at` just past the `u`; a high surrogate must be followed by its low one.
  private mutating func unicodeEscape() throws(JSONParseError) -> Unicode.Scalar {
    let first = try hex4()
    if (0xD800...0xDBFF).contains(first) {
      guard at + 1 < bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else {
        throw failure("a high surrogate escape without its low surrogate")
      }
      at += 2
      let second = try hex4()
      guard (0xDC00...0xDFFF).contains(second) else {
        throw failure("a high surrogate escape without its low surrogate")
      }
      let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
      guard let scalar = Unicode.Scalar(code) else { throw failure("invalid \\u escape") }
      return scalar
    }
    guard let scalar = Unicode.Scalar(first) else { throw failure("a lone low surrogate escape") }
    return scalar
  }

  private mutating func hex4() throws(JSONParseError) -> UInt32 {
    guard at + 4 <= bytes.count else { throw failure("invalid \\u escape") }
    var value: UInt32 = 0
    for _ in 0..<4 {
      let byte = bytes[at]
      let digit: UInt8
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
      default: throw failure("invalid \\u escape")
      }
      value = value << 4 | UInt32(digit)
      at += 1
    }
    return value
  }

  /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
  private mutating func number() throws(JSONParseError) -> JSONValue {
    let start = at
    if bytes[at] == UInt8(ascii: "-") { at += 1 }
    guard at < bytes.count, isDigit(bytes[at]) else { throw failure("invalid number") }
    if bytes[at] == UInt8(ascii: "0") {
      at += 1
      if at < bytes.count, isDigit(bytes[at]) { throw failure("invalid number (leading zero)") }
    } else {
      while at < bytes.count, isDigit(bytes[at]) { at += 1 }
    }
    var integral = true
    if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
      integral = false
      at += 1
      guard at < bytes.count, isDigit(bytes[at]) else { throw failure("invalid number") }
      while at < bytes.count, isDigit(bytes[at]) { at += 1 }
    }
    if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
      integral = false
      at += 1
      if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
      guard at < bytes.count, isDigit(bytes[at]) else { throw failure("invalid number") }
      while at < bytes.count, isDigit(bytes[at]) { at += 1 }
    }
    let text = String(decoding: bytes[start..<at], as: UTF8.self)
    if integral, let value = Int64(text) { return .int(value) }
    guard let value = Double(text), value.isFinite else { throw failure("number out of range") }
    if value.rounded() == value, value > -0x1p63, value < 0x1p63 { return .int(Int64(value)) }
    return .double(value)
  }

  private func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
  }
}
