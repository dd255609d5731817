import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Wire

/// Reading request bodies and writing answers in WAHA's JSON.
enum Exchange {
  static let maxBody = 1 << 20

  /// The body as a JSON object; a missing body is an empty object, anything else not an object is a 400.
  static func object(_ request: Request) async throws -> JSONValue {
    let buffer: ByteBuffer
    do {
      buffer = try await request.body.collect(upTo: maxBody)
    } catch is NIOTooManyBytesError {
      throw SimulatedWAHAError(
        status: .contentTooLarge, body: ["statusCode": 413, "message": "request entity too large"])
    }
    if buffer.readableBytes == 0 { return [:] }
    let value: JSONValue
    do {
      value = try JSONValue.parse(Data(buffer.readableBytesView))
    } catch {
      throw SimulatedWAHAError.validation(["body is not valid JSON"])
    }
    guard case .object = value else { throw SimulatedWAHAError.validation(["body must be a JSON object"]) }
    return value
  }

  static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
    Response(
      status: status, headers: [.contentType: "application/json; charset=utf-8"],
      body: .init(byteBuffer: ByteBuffer(bytes: value.encoded())))
  }

  static func encoding(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    Response(
      status: status, headers: [.contentType: "application/json; charset=utf-8"],
      body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
  }

  private static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }()
}
