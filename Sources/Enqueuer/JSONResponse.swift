import Foundation
import HTTPTypes
import Hummingbird

/// Every route answers JSON the same way: keys sorted (stable for diffs and caches), slashes
/// unescaped, times in RFC 3339 UTC with milliseconds.
enum JSONResponse {
  static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }()

  static func make(_ status: HTTPResponse.Status, _ value: some Encodable) throws -> Response {
    Response(
      status: status, headers: [.contentType: "application/json"],
      body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
  }

  /// A Redis time (epoch milliseconds) as the API writes times.
  static func time(_ ms: Int64) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
  }

  static func time(_ date: Date) -> String {
    time(Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
  }
}
