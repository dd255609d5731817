import Foundation
import Testing
import Wire

/// `JSONValue.parse` reads JSON itself; JSONSerialization is the oracle. Both must accept the
/// same texts, refuse the same texts, and agree on every value (with JSONValue's number rules).
@Suite struct JSONReaderTests {
  /// The conversion `JSONValue.parse` used before it had its own reader: JSONSerialization's
  /// objects, value by value.
  static func oracle(_ text: [UInt8]) -> JSONValue? {
    guard let object = try? JSONSerialization.jsonObject(with: Data(text), options: [.fragmentsAllowed]) else {
      return nil
    }
    return convert(object)
  }

  static func convert(_ value: Any) -> JSONValue {
    switch value {
    case let text as String: return .string(text)
    case let number as NSNumber:
      switch String(cString: number.objCType) {
      case "c": return .bool(number.boolValue)
      case "d", "f":
        if let decimal = number as? NSDecimalNumber {
          return Int64(decimal.stringValue).map(JSONValue.int) ?? .double(number.doubleValue)
        }
        let value = number.doubleValue
        return value.rounded() == value && value > -0x1p63 && value < 0x1p63 ? .int(Int64(value)) : .double(value)
      case "Q", "L":
        let unsigned = number.uint64Value
        return unsigned > UInt64(Int64.max) ? .double(number.doubleValue) : .int(Int64(unsigned))
      default: return .int(number.int64Value)
      }
    case let array as [Any]: return .array(array.map(convert))
    case let object as [String: Any]: return .object(object.mapValues(convert))
    default: return .null
    }
  }

  static let valid: [String] = [
    #"{}"#, #"[]"#, #" { "a" : [ 1 , 2 , { } , [ ] ] } "#, "\t\n\r[true,false,null]\n",
    #""plain""#, #""quote \" backslash \\ slash \/ \b\f\n\r\t""#, #""caf\u00e9 \u00E9 \u4e2d""#,
    #""emoji \ud83d\ude00 raw 😀 ação""#, #""""#, #"{"":""}"#, #"{"a":1,"a":2}"#,
    "0", "-0", "1", "-1", "1.5", "-2.5", "1e3", "1E-3", "2.5e+2", "54.0", "0.1", "1e300", "-1e-300",
    "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
    "18446744073709551615", "18446744073709551616", "123456789012345678901234567890", "9007199254740993",
    "1.7976931348623157e308", "5e-324",
    #"{"jobs":[{"type":"diag.noop","payload":{},"queue":"bench"},{"type":"diag.echo","payload":{"message":"oi"}}]}"#,
    #"[[[[[[[[[[1]]]]]]]]]]"#, #"{"nested":{"deeper":{"deepest":[1,{"x":null}]}}}"#,
  ]

  static let invalid: [String] = [
    "{", "}", "[", "]", "[,1]", "[1 2]", "{\"a\":}", "{\"a\" 1}", "{1:2}", "{,}",
    "01", "-01", "1.", ".5", "-", "+1", "1e", "1e+", "0x10", "NaN", "Infinity", "-Infinity", "1e400",
    "tru", "nul", "fals", "True", "nulls", "[]]", "{}}", "1 2", "\"a\" \"b\"", "\"unterminated",
    "\"bad \\x escape\"", "\"bad \\u12 escape\"", "\"bad \\uZZZZ escape\"", "\"raw \t tab\"", "\"raw \n newline\"",
    "'single'", "[1,,2]", "{\"a\"::1}", "// comment\n1", "/* c */ 1", "[1]x",
  ]

  @Test func acceptsWhatJSONSerializationAcceptsWithTheSameValues() throws {
    for text in Self.valid {
      let bytes = Array(text.utf8)
      let expected = try #require(Self.oracle(bytes), "the oracle refused \(text)")
      #expect(try JSONValue.parse(bytes) == expected, "\(text)")
    }
  }

  @Test func refusesWhatJSONSerializationRefuses() {
    for text in Self.invalid {
      let bytes = Array(text.utf8)
      #expect(Self.oracle(bytes) == nil, "the oracle accepted \(text)")
      #expect(throws: JSONParseError.self, "\(text)") { try JSONValue.parse(bytes) }
    }
    // Trailing commas: JSONSerialization on Linux lets them pass; RFC 8259 does not, nor do we.
    for text in ["[1,]", #"{"a":1,}"#, #"{"jobs":[{"type":"diag.noop"},]}"#] {
      #expect(throws: JSONParseError.self, "\(text)") { try JSONValue.parse(Array(text.utf8)) }
    }
    // Not UTF-8 inside a string, and a string cut off mid-escape.
    for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0x5C], [0x5B, 0x22, 0x5C, 0x75, 0x30]] {
      #expect(Self.oracle(bytes) == nil)
      #expect(throws: JSONParseError.self) { try JSONValue.parse(bytes) }
    }
  }

  /// Random documents of every shape, written by JSONSerialization, read back by both.
  @Test func agreesWithJSONSerializationOnRandomDocuments() throws {
    var rng = SeededGenerator(seed: 0x5EED)
    for round in 0..<400 {
      let document = Self.randomValue(depth: 0, using: &rng)
      let data = try JSONSerialization.data(withJSONObject: [document], options: [.fragmentsAllowed])
      let bytes = [UInt8](data)
      let expected = try #require(Self.oracle(bytes), "round \(round)")
      let value = try JSONValue.parse(bytes)
      #expect(Self.same(value, expected), "round \(round): \(String(decoding: bytes, as: UTF8.self))")
    }
  }

  /// Equal, but for doubles within a few units in the last place: JSONSerialization on Linux reads
  /// long decimals as NSDecimalNumber, whose doubleValue can be off by one ulp where `Double(text)`
  /// rounds correctly.
  static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.double(let x), .double(let y)): return x == y || abs(x - y) <= 4 * max(x.ulp, y.ulp)
    case (.array(let xs), .array(let ys)): return xs.count == ys.count && zip(xs, ys).allSatisfy { same($0, $1) }
    case (.object(let xs), .object(let ys)):
      return xs.count == ys.count && xs.allSatisfy { key, x in ys[key].map { same(x, $0) } ?? false }
    default: return a == b
    }
  }

  @Test func keepsAZeroWidthNoBreakSpaceInsideAString() throws {
    // JSONSerialization on Linux drops U+FEFF inside strings; it is text like any other.
    #expect(try JSONValue.parse(Array("[\"a\u{FEFF}b\"]".utf8)) == .array([.string("a\u{FEFF}b")]))
    #expect(try JSONValue.parse(Array(#"["a\ufeffb"]"#.utf8)) == .array([.string("a\u{FEFF}b")]))
  }

  @Test func refusesDeepNestingWithoutRecursingIntoIt() throws {
    let deepest =
      String(repeating: "[", count: JSONValue.maxNesting) + String(repeating: "]", count: JSONValue.maxNesting)
    #expect(try JSONValue.parse(Array(deepest.utf8)) != .null)
    for depth in [JSONValue.maxNesting + 1, 100_000] {
      let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
      let error = #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(text.utf8)) }
      #expect(error?.reason.contains("nested deeper than") == true)
    }
  }

  @Test func skipsAByteOrderMarkAndNamesWhereTheTextWentWrong() throws {
    #expect(try JSONValue.parse([0xEF, 0xBB, 0xBF] + Array(#"{"a":1}"#.utf8)) == ["a": 1])
    let error = #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(#"{"a":1,"b":}"#.utf8)) }
    #expect(error?.reason.hasSuffix("at byte 11") == true, "\(String(describing: error))")
  }

  static func randomValue(depth: Int, using rng: inout SeededGenerator) -> Any {
    let choice = depth >= 4 ? Int.random(in: 0..<6, using: &rng) : Int.random(in: 0..<8, using: &rng)
    switch choice {
    case 0: return NSNull()
    case 1: return Bool.random(using: &rng)
    case 2: return Int64.random(in: Int64.min...Int64.max, using: &rng)
    case 3: return Int.random(in: -1000...1000, using: &rng)
    case 4: return Double.random(in: -1e6...1e6, using: &rng)
    case 5: return randomString(using: &rng)
    case 6:
      return (0..<Int.random(in: 0..<5, using: &rng)).map { _ in randomValue(depth: depth + 1, using: &rng) }
    default:
      var object: [String: Any] = [:]
      for _ in 0..<Int.random(in: 0..<5, using: &rng) {
        object[randomString(using: &rng)] = randomValue(depth: depth + 1, using: &rng)
      }
      return object
    }
  }

  static func randomString(using rng: inout SeededGenerator) -> String {
    let alphabet: [Unicode.Scalar] = [
      "a", "b", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{01}", "\u{1F}", "\u{7F}", "é", "ç", "ã", "中",
      "😀", "\u{2028}",
    ]
    var text = String.UnicodeScalarView()
    for _ in 0..<Int.random(in: 0..<12, using: &rng) { text.append(alphabet.randomElement(using: &rng)!) }
    return String(text)
  }
}

/// A deterministic generator (Knuth's MMIX LCG, high bits mixed in), so a failing round can be
/// run again.
struct SeededGenerator: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return state ^ (state >> 33)
  }
}

/// `JSONText` writes strings as WireJSON's encoder does, byte for byte.
@Suite struct JSONTextTests {
  @Test func stringsAreEscapedAsJSONEncoderEscapesThem() throws {
    var rng = SeededGenerator(seed: 0x7E47)
    var samples = [
      "", "plain", "quote\" backslash\\ slash/", "\u{00}\u{08}\u{0C}\n\r\t\u{1F}\u{7F}", "ação 中 😀 \u{2028}",
    ]
    for _ in 0..<300 { samples.append(JSONReaderTests.randomString(using: &rng)) }
    for sample in samples {
      var text = JSONText()
      text.string(sample)
      let expected = try WireJSON.encoder.encode([sample])
      #expect("[" + String(decoding: text.bytes, as: UTF8.self) + "]" == String(decoding: expected, as: UTF8.self))
      #expect(try JSONValue.parse(text.bytes) == .string(sample))
    }
  }
}
