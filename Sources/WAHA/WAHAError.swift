/// How a WAHA call failed, sorted by what the caller must do next.
public enum WAHAError: Error, Sendable, Equatable, CustomStringConvertible {
  /// Timeout, 5xx, 429, connection trouble: retry later with backoff (the send may have happened
  /// on a timeout, so the caller's own record decides whether to send again).
  case transient(String)
  /// 422: the session is not WORKING (WAHA says which status it has); defer the chip's sends.
  case sessionNotWorking(session: String, status: String)
  /// 404: no such session on this WAHA; mark the chip.
  case sessionNotFound(String)
  /// The number is not on WhatsApp: fail this message for good, with this reason.
  case notOnWhatsApp(String)
  /// 400 and other refusals that a retry will not cure.
  case rejected(status: Int, message: String)
  /// 401: the chip's WAHA API key is wrong.
  case unauthorized

  public var isTransient: Bool { if case .transient = self { true } else { false } }
  public var isNotOnWhatsApp: Bool { if case .notOnWhatsApp = self { true } else { false } }

  public var description: String {
    switch self {
    case .transient(let detail): "WAHA is unavailable for now: \(detail)"
    case .sessionNotWorking(let session, let status):
      "WAHA session \(session) is \(status), not WORKING; sends wait until it works (restart it if it stays so)"
    case .sessionNotFound(let session): "WAHA has no session \(session); check the chip's session name"
    case .notOnWhatsApp(let masked): "\(masked) is not on WhatsApp"
    case .rejected(let status, let message): "WAHA refused the request (\(status)): \(message)"
    case .unauthorized: "WAHA refused the API key (401); check the chip's WAHA API key"
    }
  }
}
