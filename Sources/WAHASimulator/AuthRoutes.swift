import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Wire

/// `/api/{session}/auth/qr` and `/api/{session}/auth/request-code`: linking a WhatsApp number, only
/// while the session is SCAN_QR_CODE (else WAHA's 422). The phone's side of it (reading the QR,
/// typing the code) is `POST /_sim/sessions/{s}/scan`.
struct AuthRoutes {
  let simulator: Simulator
  var store: SimStore { simulator.store }

  func register(on api: RouterGroup<some RequestContext>) {
    api.get(":session/auth/qr") { request, context in try qr(request, session: try name(context)) }
    api.post(":session/auth/request-code") { request, context in
      try await requestCode(request, session: try name(context))
    }
  }

  /// The current QR code: `{"value"}` with `?format=raw`; `{"mimetype","data"}` (base64 PNG) when
  /// the `Accept` header is exactly `application/json`; otherwise the PNG itself.
  private func qr(_ request: Request, session name: String) throws -> Response {
    let session = try store.session(name)
    guard session.status == .scanQRCode, let value = session.qr else {
      throw SimulatedWAHAError.unexpectedStatus(name, session.status, expected: [.scanQRCode])
    }
    if request.uri.queryParameters.get("format") == "raw" { return Exchange.json(["value": JSONValue(value)]) }
    let png = QRCodeImage.png(for: value)
    if request.headers[.accept] == "application/json" {
      return Exchange.json(["mimetype": "image/png", "data": JSONValue(Data(png).base64EncodedString())])
    }
    return Response(
      status: .ok, headers: [.contentType: "image/png"], body: .init(byteBuffer: ByteBuffer(bytes: png)))
  }

  /// `{"phoneNumber":"5511999999999"}` → 201 `{"code":"ABCD-EFGH"}`: body checked first (400), then
  /// the session (404, 422). The number is remembered: it becomes the account's once scanned.
  private func requestCode(_ request: Request, session name: String) async throws -> Response {
    let body = try await Exchange.object(request)
    let phone = try Self.phoneNumber(body["phoneNumber"], field: "phoneNumber")
    _ = try store.requestCode(name, phone: phone)
    return Exchange.json(["code": JSONValue(Self.pairingCode())], status: .created)
  }

  /// A phone number as WAHA takes it here: 8 to 15 digits, country code first, nothing else.
  static func phoneNumber(_ value: JSONValue?, field: String) throws(SimulatedWAHAError) -> String {
    guard let text = value?.string, (8...15).contains(text.count), text.allSatisfy({ $0.isASCII && $0.isNumber })
    else {
      throw .validation(["\(field) must be 8 to 15 digits with the country code, like 5511999999999"])
    }
    return text
  }

  /// WhatsApp's pairing codes: 8 letters and digits, shown as two groups of 4.
  static func pairingCode() -> String {
    let alphabet = Array("ABCDEFGHJKLMNPQRSTVWXYZ0123456789")
    let characters = (0..<8).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] }
    return String(characters.prefix(4)) + "-" + String(characters.suffix(4))
  }

  private func name(_ context: some RequestContext) throws -> String {
    guard let name = context.parameters.get("session") else { throw SimulatedWAHAError.sessionNotFound }
    return name
  }
}
