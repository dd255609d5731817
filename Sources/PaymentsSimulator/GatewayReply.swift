import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Wire

/// One answer of a simulated gateway, in that gateway's own JSON shape: what a charge stores under
/// its idempotency key and replays, and, thrown, how a route answers an error. Errors become HTTP
/// only here, at the HTTP layer.
struct GatewayReply: Error, HTTPResponseError, Sendable {
  var code: Int
  var body: JSONValue
  var headers: [String: String] = [:]

  var status: HTTPResponse.Status { HTTPResponse.Status(code: code) }

  func response(from request: Request, context: some RequestContext) throws -> Response {
    response()
  }

  func response() -> Response {
    var fields: HTTPFields = [.contentType: "application/json; charset=utf-8"]
    for (name, value) in headers {
      if let name = HTTPField.Name(name) { fields[name] = value }
    }
    return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body.encoded())))
  }
}

/// Reading requests: raw bodies, JSON objects, headers by name.
enum Incoming {
  static let maxBody = 1 << 20

  static func bytes(_ request: Request) async throws -> Data {
    Data(try await request.body.collect(upTo: maxBody).readableBytesView)
  }

  /// The body as a JSON object, or `invalid(message)` thrown in the gateway's shape.
  static func object(_ request: Request, invalid: (String) -> GatewayReply) async throws -> JSONValue {
    let body = try await bytes(request)
    guard let value = try? JSONValue.parse(body), case .object = value else {
      throw invalid("the body must be a JSON object")
    }
    return value
  }

  static func header(_ request: Request, _ name: String) -> String? {
    HTTPField.Name(name).flatMap { request.headers[$0] }
  }

  /// The token of `Authorization: Bearer <token>`.
  static func bearer(_ request: Request) -> String? {
    guard let value = request.headers[.authorization], value.lowercased().hasPrefix("bearer ") else { return nil }
    return String(value.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
  }
}

func nowMilliseconds() -> Int {
  Int(Date().timeIntervalSince1970 * 1000)
}

/// Random ids in the gateways' own alphabets.
enum SimID {
  static func alphanumeric(_ count: Int, uppercase: Bool = false) -> String {
    let alphabet = Array(
      uppercase
        ? "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    return String((0..<count).map { _ in alphabet.randomElement()! })
  }
}
