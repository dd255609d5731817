import Foundation
import JobQueue
import Wire

/// The handlers a worker process can run, by job type.
public struct HandlerRegistry: Sendable {
  typealias Runner = @Sendable (_ payload: String, _ context: JobContext) async throws -> Void
  typealias Validator = @Sendable (_ payload: String) throws -> Void

  private var runners: [String: Runner] = [:]
  private var validators: [String: Validator] = [:]

  public init() {}

  public mutating func register<H: JobHandler>(_ handler: H) {
    runners[H.type] = { payload, context in
      try await handler.run(try Self.decode(H.Parameters.self, payload), context: context)
    }
    validators[H.type] = { payload in _ = try Self.decode(H.Parameters.self, payload) }
  }

  public var types: [String] { runners.keys.sorted() }

  func runner(for type: String) -> Runner? { runners[type] }

  /// Checks that `payload` decodes as `type`'s parameters, so bad input is refused at enqueue time
  /// instead of failing later in a worker.
  public func validate(type: String, payload: String) throws(PayloadError) {
    guard let validator = validators[type] else { return }
    do {
      try validator(payload)
    } catch var error as PayloadError {
      error.type = type
      throw error
    } catch {
      throw PayloadError(type: type, reason: "\(error)")
    }
  }

  /// One decoder for every payload: creating one per job showed up in profiles.
  private static let decoder = JSONDecoder()

  static func decode<T: Decodable>(_: T.Type, _ payload: String) throws(PayloadError) -> T {
    do {
      return try decoder.decode(T.self, from: Data(payload.utf8))
    } catch let DecodingError.dataCorrupted(context) {
      throw PayloadError(
        type: nil, reason: "not valid JSON\(path(context.codingPath)): \(context.debugDescription)",
        pointer: JSONPointer.to(context.codingPath))
    } catch let DecodingError.keyNotFound(key, context) {
      throw PayloadError(
        type: nil, reason: "missing field '\(path(context.codingPath + [key]).dropFirst(4))'",
        pointer: JSONPointer.to(context.codingPath + [key]))
    } catch let DecodingError.typeMismatch(type, context) {
      throw PayloadError(
        type: nil, reason: "field\(path(context.codingPath)) should be \(type)",
        pointer: JSONPointer.to(context.codingPath))
    } catch let DecodingError.valueNotFound(type, context) {
      throw PayloadError(
        type: nil, reason: "field\(path(context.codingPath)) is null, expected \(type)",
        pointer: JSONPointer.to(context.codingPath))
    } catch {
      throw PayloadError(type: nil, reason: "\(error)")
    }
  }

  private static func path(_ keys: [any CodingKey]) -> String {
    if keys.isEmpty { return "" }
    return " at " + keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
  }
}

/// A payload that does not fit its job type.
public struct PayloadError: Error, CustomStringConvertible {
  public var type: String?
  public var reason: String
  /// Where in the payload, as a JSON Pointer ("" for the payload itself).
  public var pointer: String = ""
  public var description: String {
    "payload does not decode\(type.map { " as \($0)" } ?? ""): \(reason)"
  }
}
