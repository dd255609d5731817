import Foundation
import HTTPTypes
import Hummingbird
import Wire

/// Every route answers JSON the same way: through `WireJSON` (snake_case names, keys sorted,
/// slashes unescaped), times in RFC 3339 UTC with milliseconds.
enum JSONResponse {
  static func make(_ status: HTTPResponse.Status, _ value: some Encodable) throws -> Response {
    Response(
      status: status, headers: [.contentType: "application/json"],
      body: .init(byteBuffer: ByteBuffer(bytes: try WireJSON.encoder.encode(value))))
  }

  /// JSON text written by hand (`JSONText`), for the answers sent thousands of times a second.
  static func make(_ status: HTTPResponse.Status, _ text: JSONText) -> Response {
    Response(
      status: status, headers: [.contentType: "application/json"],
      body: .init(byteBuffer: ByteBuffer(bytes: text.bytes)))
  }

  /// A Redis time (epoch milliseconds) as the API writes times.
  static func time(_ ms: Int64) -> String { WireJSON.time(ms) }

  static func time(_ date: Date) -> String { WireJSON.time(date) }
}
