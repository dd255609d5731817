import Foundation
import HTTPTypes
import Hummingbird
import Wire

/// The errors WAHA answers, each with the body WAHA sends, so a client's error handling is tested
/// against the real shapes rather than ours.
public struct SimulatedWAHAError: Error, HTTPResponseError, Sendable {
  public let status: HTTPResponse.Status
  let body: JSONValue
  var headers: HTTPFields = [:]

  public func response(from request: Request, context: some RequestContext) throws -> Response {
    var headers = headers
    headers[.contentType] = "application/json; charset=utf-8"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body.encoded())))
  }

  static let unauthorized = SimulatedWAHAError(
    status: .unauthorized, body: ["message": "Unauthorized", "statusCode": 401])

  static let sessionNotFound = SimulatedWAHAError(
    status: .notFound, body: ["statusCode": 404, "message": "Session not found"])

  /// WAHA's answer to a send on a session that is not WORKING (it waits up to 5 s first; we do not).
  static func notWorking(_ session: String, _ status: SessionStatus) -> SimulatedWAHAError {
    unexpectedStatus(session, status, expected: [.working])
  }

  /// WAHA's 422 for a call the session's status does not allow: a send outside WORKING, a QR or a
  /// pairing code outside SCAN_QR_CODE.
  static func unexpectedStatus(_ session: String, _ status: SessionStatus, expected: [SessionStatus])
    -> SimulatedWAHAError
  {
    SimulatedWAHAError(
      status: .unprocessableContent,
      body: [
        "error": "Session status is not as expected. Try again later or restart the session",
        "session": JSONValue(session), "status": JSONValue(status.rawValue),
        "expected": .array(expected.map { JSONValue($0.rawValue) }),
      ])
  }

  /// A `/_sim` request the simulator's state does not allow (not WAHA's: WAHA has no such routes).
  static func conflict(_ message: String) -> SimulatedWAHAError {
    SimulatedWAHAError(status: .conflict, body: ["statusCode": 409, "message": JSONValue(message)])
  }

  static func sessionExists(_ name: String) -> SimulatedWAHAError {
    SimulatedWAHAError(
      status: .unprocessableContent,
      body: [
        "statusCode": 422, "error": "Unprocessable Entity",
        "message": JSONValue("Session '\(name)' already exists. Use PUT to update it."),
      ])
  }

  /// NestJS's class-validator shape, which WAHA answers for a body that does not validate.
  static func validation(_ messages: [String]) -> SimulatedWAHAError {
    SimulatedWAHAError(
      status: .badRequest,
      body: ["statusCode": 400, "error": "Bad Request", "message": .array(messages.map { JSONValue($0) })])
  }

  static func engineFailure(_ request: Request, reason: String) -> SimulatedWAHAError {
    SimulatedWAHAError(
      status: .internalServerError,
      body: [
        "statusCode": 500,
        "timestamp": JSONValue(Date().ISO8601Format()),
        "exception": ["message": JSONValue(reason), "name": "Error"],
        "request": ["path": JSONValue(request.uri.path), "method": JSONValue(request.method.rawValue)],
      ])
  }

  static let rateLimited = SimulatedWAHAError(
    status: .tooManyRequests, body: ["statusCode": 429, "message": "ThrottlerException: Too Many Requests"],
    headers: [.retryAfter: "1"])
}
