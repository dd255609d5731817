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
