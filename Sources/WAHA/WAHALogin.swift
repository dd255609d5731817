import Foundation
import OutboundHTTP

/// A QR code to link a WhatsApp number, as the front end shows it.
public struct WAHAQRCode: Decodable, Sendable, Equatable {
  /// `image/png`.
  public var mimetype: String
  /// The image, base64.
  public var data: String

  public init(mimetype: String, data: String) {
    self.mimetype = mimetype
    self.data = data
  }

  /// The image's bytes; nil if `data` is not base64.
  public var bytes: [UInt8]? { Data(base64Encoded: data).map { Array($0) } }
}

/// Linking a WhatsApp number to a session: by QR code, or by a pairing code typed on the phone. Both
/// only while the session is SCAN_QR_CODE; in any other status WAHA answers 422, which is
/// `.sessionNotWorking(session:status:)` with the status it has (ask again once it is SCAN_QR_CODE).
extension WAHAClient {
  /// `GET /api/{s}/auth/qr` with `Accept: application/json`: the current code as a base64 PNG. A new
  /// code replaces it every 20 to 60 s (WAHA sends `session.status` SCAN_QR_CODE again each time).
  public func qr(_ session: String) async throws(WAHAError) -> WAHAQRCode {
    let response = try await send(request("GET", "/api/\(Self.escape(session))/auth/qr"), session: session)
    if let code = try? response.decode(WAHAQRCode.self) { return code }
    // A WAHA that ignores the Accept header answers the image itself.
    if let type = response.headers["content-type"], type.hasPrefix("image/"), !response.body.isEmpty {
      return WAHAQRCode(
        mimetype: String(type.prefix { $0 != ";" }), data: Data(response.body).base64EncodedString())
    }
    throw .transient("session \(session)'s QR answered \(response.status) with an unexpected body")
  }

  /// `POST /api/{s}/auth/request-code {"phoneNumber"}`: the code (`ABCD-EFGH`) the phone's owner types
  /// in WhatsApp (Linked devices → Link with phone number). `phoneNumber` is the number with its
  /// country code; anything but its digits is dropped. The number never appears in an error.
  public func requestPairingCode(session: String, phoneNumber: String) async throws(WAHAError) -> String {
    let digits = String(phoneNumber.filter { $0.isASCII && $0.isNumber })
    let path = "/api/\(Self.escape(session))/auth/request-code"
    let response = try await send(request("POST", path, body: PairingCodeBody(phoneNumber: digits)), session: session)
    guard let code = (try? response.decode(PairingCodeAnswer.self))?.code, !code.isEmpty else {
      throw .transient("session \(session)'s pairing code answered \(response.status) with an unexpected body")
    }
    return code
  }
}

struct PairingCodeBody: Encodable {
  var phoneNumber: String
}

struct PairingCodeAnswer: Decodable {
  var code: String?
}
