import Foundation
import HTTPTypes
import Hummingbird
import Wire

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
