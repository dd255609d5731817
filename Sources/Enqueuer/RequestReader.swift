import Foundation
import Hummingbird
import NIOCore
import Wire

/// Reads a request's JSON object field by field, so that every route declares its fields the same
/// way and applies the same rules: the body is an object, no field is unknown, a string's length
/// is counted in Unicode scalars (as PostgreSQL counts characters), a time is RFC 3339 with a zone.
/// Every mistake is collected with its JSON Pointer and answered at once by `finish()`, so a
/// client fixes a request in one round trip, not one per field.
///
/// A reader of a nested object (`object(_:fields:noun:)`) reports into its parent's list.
final class RequestReader {
  /// How a string may use control characters.
  enum Controls {
    /// None at all: names, URLs, keys, identifiers.
    case refused
    /// Line breaks and tabs are text (a message template); only NUL is refused, which PostgreSQL
    /// cannot store.
    case allowedButNUL
  }

  /// The list every reader of one request appends to.
  private final class Errors {
    var list: [Problem.FieldError] = []
  }

  private let fields: [String: JSONValue]
  private let base: String
  private let errors: Errors

  /// Whether the value read was a JSON object (when not, the error is already recorded).
  let isObject: Bool

  /// The body of `request` (at most `limit` bytes) as an object of `fields`; `noun` names what it
  /// describes in the error that lists the fields ("a chip has …"). Throws 400 for a body that is
  /// not JSON, 413 past the limit.
  static func body(_ request: Request, limit: Int, fields: Set<String>, noun: String) async throws -> RequestReader {
    let bytes = try await bytes(request, limit: limit)
    return RequestReader(try JSONValue.body(bytes.readableBytesView), fields: fields, noun: noun)
  }

  /// The raw body, at most `limit` bytes. It is read as JSON whatever its Content-Type says:
  /// `curl -d` sends form-encoded, and a 415 for that would only slow people down.
  static func bytes(_ request: Request, limit: Int) async throws -> ByteBuffer {
    do {
      return try await request.body.collect(upTo: limit)
    } catch is NIOTooManyBytesError {
      throw Problem(
        .contentTooLarge, "body-too-large", "The body is too large",
        detail: "bodies are limited to \(limit) bytes here; split the work into smaller requests")
    }
  }

  /// Reads `value` found at the JSON Pointer `base` ("" for the body itself).
  convenience init(_ value: JSONValue, at base: String = "", fields allowed: Set<String>, noun: String) {
    self.init(value, at: base, fields: allowed, noun: noun, errors: Errors())
  }

  private init(_ value: JSONValue, at base: String, fields allowed: Set<String>, noun: String, errors: Errors) {
    self.base = base
    self.errors = errors
    guard case .object(let object) = value else {
      fields = [:]
      isObject = false
      errors.list.append(.init(pointer: base, detail: "\(noun) is a JSON object, got \(value.kind)"))
      return
    }
    fields = object
    isObject = true
    for name in object.keys.sorted() where !allowed.contains(name) {
      errors.list.append(
        .init(
          pointer: "\(base)/\(JSONPointer.escape(name))",
          detail: "unknown field; \(noun) has \(allowed.sorted().joined(separator: ", "))"))
    }
  }

  /// The JSON Pointer of `field` in this object ("" is the object itself).
  func pointer(_ field: String) -> String {
    field.isEmpty ? base : "\(base)/\(JSONPointer.escape(field))"
  }

  /// Records what is wrong with `field` (a path below this object, "" for the object itself).
  /// Nothing more is recorded about a value that is not an object: "missing" for each of its
  /// fields would bury the one error that matters.
  func fail(_ field: String, _ detail: String) {
    guard isObject else { return }
    errors.list.append(.init(pointer: field.isEmpty ? base : "\(base)/\(field)", detail: detail))
  }

  /// Records errors found elsewhere (a recipient list, a payload contract) as they are.
  func fail(_ found: [Problem.FieldError]) {
    errors.list += found
  }

  /// The field's raw value, for the checks no reader method makes.
  subscript(_ field: String) -> JSONValue? { fields[field] }

  func has(_ field: String) -> Bool { fields[field] != nil }

  var hasErrors: Bool { !errors.list.isEmpty }

  /// Every error recorded so far, in the order found.
  var problems: [Problem.FieldError] { errors.list }

  /// Throws the 422 that lists every error, if there is any.
  func finish() throws(Problem) {
    if !errors.list.isEmpty { throw Problem.invalid(errors.list) }
  }

  // MARK: Fields

  /// A string of 1 to `max` Unicode scalars (`0...max` when `allowEmpty`). `expected` names what
  /// the field holds, for the errors ("missing: …", "must be …, got a number"); `check` returns
  /// what is wrong with a string of the right length, or nil.
  func string(
    _ field: String, required: Bool = true, max: Int, allowEmpty: Bool = false, controls: Controls = .refused,
    expected: String? = nil, check: (String) -> String? = { _ in nil }
  ) -> String? {
    let expected = expected ?? "a string of \(allowEmpty ? 0 : 1) to \(max) characters"
    switch fields[field] {
    case nil:
      if required { fail(field, "missing: \(expected)") }
      return nil
    case .string(let s)?:
      let count = s.unicodeScalars.count
      if count > max || (count == 0 && !allowEmpty) {
        fail(field, "must have \(allowEmpty ? 0 : 1) to \(max) characters, has \(count)")
        return nil
      }
      switch controls {
      // Unicode's control category (Cc) is exactly U+0000–U+001F and U+007F–U+009F; asking each
      // scalar for its general category took 6% of serve's CPU under batch submissions.
      case .refused where s.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }):
        fail(field, "must not contain control characters (line breaks, tabs, NUL)")
        return nil
      case .allowedButNUL where s.unicodeScalars.contains("\u{0}"):
        fail(field, "must not contain NUL")
        return nil
      default: break
      }
      if let problem = check(s) {
        fail(field, problem)
        return nil
      }
      return s
    case let other?:
      fail(field, "must be a string, got \(other.kind)")
      return nil
    }
  }

  /// A whole number in `range`; `expected` names it for the errors.
  func int(_ field: String, required: Bool = false, in range: ClosedRange<Int64>, expected: String? = nil) -> Int64? {
    let expected = expected ?? "a whole number between \(range.lowerBound) and \(range.upperBound)"
    switch Self.int(fields[field], in: range) {
    case .absent:
      if required { fail(field, "missing: \(expected)") }
      return nil
    case .number(let n): return n
    case .wrong(let got):
      fail(field, "must be \(expected), got \(got)")
      return nil
    }
  }

  /// An array of `count` whole numbers, each in `each`; an element that is not one is reported at
  /// its own index. `expected` names the array, `eachExpected` one element.
  func ints(
    _ field: String, required: Bool = false, count: ClosedRange<Int>, each: ClosedRange<Int64>, expected: String,
    eachExpected: String
  ) -> [Int64]? {
    switch fields[field] {
    case nil:
      if required { fail(field, "missing: \(expected)") }
      return nil
    case .array(let items)? where count.contains(items.count):
      var numbers: [Int64] = []
      for (index, item) in items.enumerated() {
        switch Self.int(item, in: each) {
        case .number(let n): numbers.append(n)
        case .absent: break
        case .wrong(let got): fail("\(JSONPointer.escape(field))/\(index)", "must be \(eachExpected), got \(got)")
        }
      }
      return numbers.count == items.count ? numbers : nil
    case .array(let items)?:
      fail(field, "must be \(expected), got an array of \(items.count)")
      return nil
    case let other?:
      fail(field, "must be \(expected), got \(other.kind)")
      return nil
    }
  }

  /// Ids of rows (chips, campaigns): `count` positive whole numbers.
  func ids(_ field: String, count: ClosedRange<Int>, expected: String) -> [Int64]? {
    ints(field, required: true, count: count, each: 1...Int64.max, expected: expected, eachExpected: "an id (≥ 1)")
  }

  /// One of an enum's raw values.
  func choice<Choice: RawRepresentable & CaseIterable>(_ field: String, required: Bool = false, as: Choice.Type)
    -> Choice? where Choice.RawValue == String
  {
    let names = Choice.allCases.map(\.rawValue).joined(separator: ", ")
    switch fields[field] {
    case nil:
      if required { fail(field, "missing: one of \(names)") }
      return nil
    case .string(let s)?:
      if let choice = Choice(rawValue: s) { return choice }
      fail(field, "must be one of \(names)")
      return nil
    case let other?:
      fail(field, "must be one of \(names), got \(other.kind)")
      return nil
    }
  }

  /// An array of an enum's raw values, without repeats; a value that is not one is reported at
  /// its own index.
  func choices<Choice: RawRepresentable & CaseIterable & Hashable>(
    _ field: String, as: Choice.Type, count: ClosedRange<Int>
  ) -> [Choice]? where Choice.RawValue == String {
    let names = Choice.allCases.map(\.rawValue).joined(separator: ", ")
    switch fields[field] {
    case nil:
      return nil
    case .array(let items)? where count.contains(items.count):
      var chosen: [Choice] = []
      for (index, item) in items.enumerated() {
        let at = "\(JSONPointer.escape(field))/\(index)"
        guard case .string(let text) = item, let choice = Choice(rawValue: text) else {
          fail(at, "must be one of \(names)")
          continue
        }
        if chosen.contains(choice) { fail(at, "repeats \(text)") } else { chosen.append(choice) }
      }
      return chosen.count == items.count ? chosen : nil
    case .array(let items)?:
      fail(field, "must have \(count.lowerBound) to \(count.upperBound) values, has \(items.count)")
      return nil
    case let other?:
      fail(field, "must be an array of \(Choice.self) names, got \(other.kind)")
      return nil
    }
  }

  /// An RFC 3339 time with a zone, with or without fractional seconds.
  func date(_ field: String, required: Bool = false) -> Date? {
    switch fields[field] {
    case nil:
      if required { fail(field, "missing: an RFC 3339 time with a zone, e.g. 2026-12-01T09:00:00-03:00") }
      return nil
    case .string(let s)?:
      if let date = Self.date(s) { return date }
      fail(field, "must be an RFC 3339 time with a zone, e.g. 2026-12-01T09:00:00-03:00")
      return nil
    case let other?:
      fail(field, "must be an RFC 3339 time string, got \(other.kind)")
      return nil
    }
  }

  /// A nested object of `fields`, read by a reader that reports into this one's list; nil when the
  /// field is absent (or, with the error recorded, not an object).
  func object(_ field: String, fields allowed: Set<String>, noun: String) -> RequestReader? {
    guard let value = fields[field] else { return nil }
    let reader = RequestReader(value, at: pointer(field), fields: allowed, noun: noun, errors: errors)
    return reader.isObject ? reader : nil
  }

  // MARK: Values

  private enum Whole {
    case absent
    case number(Int64)
    /// What was found instead ("a fraction", "a string", "0").
    case wrong(String)
  }

  private static func int(_ value: JSONValue?, in range: ClosedRange<Int64>) -> Whole {
    switch value {
    case nil: .absent
    case .int(let n)?:
      range.contains(n) ? .number(n) : .wrong("\(n)")
    // An integral double is a whole number too large for 64 bits (JSONValue keeps the rest as ints).
    case .double(let d)? where d.rounded() == d: .wrong(d.formatted(.number.grouping(.never)))
    case .double?: .wrong("a fraction")
    case let other?: .wrong(other.kind)
    }
  }

  /// An RFC 3339 time with a zone, with or without fractional seconds.
  static func date(_ text: String) -> Date? { WireJSON.date(text) }

}
