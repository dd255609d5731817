import Foundation
import JobCatalog
import JobQueue
import Wire

/// One job type's contract: its name in jobs/catalog.json and its parameters, the one type both
/// the code that enqueues the job and the handler that runs it use, so no payload is written by
/// hand and a field renamed on one side is a compile error on the other.
public protocol JobContract: Sendable {
  associatedtype Parameters: Codable & Sendable
  /// The job type, as named in jobs/catalog.json.
  static var type: String { get }
}

extension JobContract {
  /// The job to enqueue for `parameters`, on the queue and with the attempts the catalog gives
  /// this type. `key`'s window is the catalog's unless `keyHeldWhileAlive`.
  public static func spec(
    _ parameters: Parameters, catalog: JobCatalog, when: JobSpec.When = .now, key: String? = nil,
    keyHeldWhileAlive: Bool = false, tenant: String? = nil
  ) throws -> JobSpec {
    let policy = try catalog.policy(for: type)
    return JobSpec(
      type: policy.type, payload: try JobPayload.encode(parameters), queue: policy.queue, when: when,
      maxAttempts: policy.maxAttempts, idempotencyKey: key, idempotencyWindow: policy.idempotencyWindow,
      keyHeldWhileAlive: keyHeldWhileAlive, tenant: tenant)
  }
}

/// A job type without parameters (a cron job's `{}`).
public struct NoParameters: Codable, Sendable, Equatable {
  public init() {}
}

/// How parameters become a payload and back: Swift's lowerCamelCase names are the payload's
/// snake_case fields (`campaignId` is `campaign_id`), through `WireJSON`, the one mapping.
public enum JobPayload {
  public static func encode(_ parameters: some Encodable) throws -> String {
    try WireJSON.text(parameters)
  }

  public static func decode<T: Decodable>(_: T.Type, _ payload: String) throws(PayloadError) -> T {
    // Most jobs without parameters carry `{}`: no decoder for them.
    if T.self == NoParameters.self, payload == "{}", let none = NoParameters() as? T { return none }
    do {
      return try WireJSON.decoder.decode(T.self, from: Data(payload.utf8))
    } catch let DecodingError.dataCorrupted(context) {
      throw PayloadError(
        type: nil, reason: "not valid JSON\(path(context.codingPath)): \(context.debugDescription)",
        pointer: pointer(context.codingPath))
    } catch let DecodingError.keyNotFound(key, context) {
      throw PayloadError(
        type: nil, reason: "missing field '\(path(context.codingPath + [key]).dropFirst(4))'",
        pointer: pointer(context.codingPath + [key]))
    } catch let DecodingError.typeMismatch(type, context) {
      throw PayloadError(
        type: nil, reason: "field\(path(context.codingPath)) should be \(type)", pointer: pointer(context.codingPath))
    } catch let DecodingError.valueNotFound(type, context) {
      throw PayloadError(
        type: nil, reason: "field\(path(context.codingPath)) is null, expected \(type)",
        pointer: pointer(context.codingPath))
    } catch {
      throw PayloadError(type: nil, reason: "\(error)")
    }
  }

  /// The RFC 6901 JSON Pointer of a coding path, relative to the payload, in payload names.
  private static func pointer(_ keys: [any CodingKey]) -> String {
    keys.map { key in "/" + (key.intValue.map(String.init) ?? JSONPointer.escape(WireJSON.wireName(key.stringValue))) }
      .joined()
  }

  private static func path(_ keys: [any CodingKey]) -> String {
    if keys.isEmpty { return "" }
    return " at "
      + keys.map { $0.intValue.map { "[\($0)]" } ?? WireJSON.wireName($0.stringValue) }.joined(separator: ".")
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
