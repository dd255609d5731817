import Foundation
import HTTPTypes
import Hummingbird

/// An RFC 9457 problem: what went wrong and what to change, as `application/problem+json`.
/// Every error the enqueuer answers with is one of these, so clients parse one shape.
public struct Problem: Error, HTTPResponseError, Encodable, Sendable {
  /// One thing wrong with the request body, located by a JSON Pointer (RFC 6901).
  public struct FieldError: Encodable, Sendable, Equatable {
    public var pointer: String
    public var detail: String
  }

  public var status: HTTPResponse.Status
  /// A stable slug clients can branch on (`unknown-job-type`); the URI is built from it.
  public var slug: String
  public var title: String
  public var detail: String
  public var errors: [FieldError]
  /// Seconds until a retry can succeed (429).
  public var retryAfter: Int?
  /// The jobs of a batch that did go in when the rest could not (`batch-incomplete`), by position.
  public var committed: [CommittedJob]?
  /// The methods the path does take (405), sent as `Allow`.
  public var allow: [String]?

  public struct CommittedJob: Encodable, Sendable, Equatable {
    public var index: Int
    public var id: String
    public var state: String
  }

  public init(
    _ status: HTTPResponse.Status, _ slug: String, _ title: String, detail: String, errors: [FieldError] = [],
    retryAfter: Int? = nil
  ) {
    self.status = status
    self.slug = slug
    self.title = title
    self.detail = detail
    self.errors = errors
    self.retryAfter = retryAfter
  }

  enum CodingKeys: String, CodingKey { case type, title, status, detail, errors, committed }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode("https://whago.dev/problems/\(slug)", forKey: .type)
    try c.encode(title, forKey: .title)
    try c.encode(status.code, forKey: .status)
    try c.encode(detail, forKey: .detail)
    if !errors.isEmpty { try c.encode(errors, forKey: .errors) }
    if let committed { try c.encode(committed, forKey: .committed) }
  }

  public func response(from request: Request, context: some RequestContext) throws -> Response {
    var headers: HTTPFields = [.contentType: "application/problem+json"]
    if let retryAfter { headers[.retryAfter] = String(retryAfter) }
    if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"whago\"" }
    if let allow { headers[.allow] = allow.joined(separator: ", ") }
    let body = (try? Problem.encoder.encode(self)) ?? Data("{}".utf8)
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
  }

  static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }()
}

extension Problem {
  static func badJSON(_ detail: String) -> Problem {
    Problem(.badRequest, "invalid-json", "The body is not valid JSON", detail: detail)
  }

  static func invalid(_ errors: [FieldError]) -> Problem {
    let first = errors.first.map { "\($0.pointer.isEmpty ? "body" : $0.pointer): \($0.detail)" } ?? "invalid request"
    let more = errors.count > 1 ? " (and \(errors.count - 1) more, see errors)" : ""
    return Problem(
      .unprocessableContent, "invalid-request", "The request does not validate", detail: first + more, errors: errors)
  }

  static func notFound(_ what: String) -> Problem {
    Problem(.notFound, "not-found", "Not found", detail: what)
  }

  static let missingKey = Problem(
    .unauthorized, "missing-api-key", "No API key",
    detail: "send the key as `Authorization: Bearer whago_…`; create one with `whago apikey create`")

  static let badKey = Problem(
    .unauthorized, "invalid-api-key", "The API key is not valid",
    detail: "the key is unknown, malformed or revoked; check it, or create a new one with `whago apikey create`")
}
