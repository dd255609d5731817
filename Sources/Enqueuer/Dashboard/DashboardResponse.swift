import HTTPTypes
import Hummingbird
import NIOCore

/// How dashboard pages leave the server.
enum DashboardResponse {
  /// Pages carry everything they need inline, so the policy allows nothing from anywhere else:
  /// the dashboard works offline, and an escaped value that slipped through still cannot load code.
  static let contentSecurityPolicy =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; "
    + "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

  /// `Referrer-Policy: same-origin` keeps page addresses (tenant and queue names in filters) from
  /// other sites, and lets the browser send a real `Origin` with the dashboard's own forms, which
  /// `AdminGate.crossSite` checks (under `no-referrer` every POST says `Origin: null`).
  static func page(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
    Response(
      status: status,
      headers: [
        .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
        .contentSecurityPolicy: contentSecurityPolicy, HTTPField.Name("Referrer-Policy")!: "same-origin",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
      ],
      body: .init(byteBuffer: ByteBuffer(string: html)))
  }

  /// 303, so the browser follows a form's POST with a GET and a reload does not repeat the action.
  static func redirect(to location: String, setCookie: String? = nil) -> Response {
    var headers: HTTPFields = [.location: location, .cacheControl: "no-store"]
    if let setCookie { headers[.setCookie] = setCookie }
    return Response(status: .seeOther, headers: headers)
  }

  /// A local dashboard path to go back to after a form, or the overview: never another site.
  static func safeBack(_ path: String?, fallback: String = "/dashboard") -> String {
    guard let path, path == "/dashboard" || path.hasPrefix("/dashboard/") || path.hasPrefix("/dashboard?"),
      !path.contains("\\"), !path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
    else { return fallback }
    return path
  }
}
