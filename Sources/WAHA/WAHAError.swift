/// How a WAHA call failed, sorted by what the caller must do next.
public enum WAHAError: Error, Sendable, Equatable, CustomStringConvertible {
  /// Timeout, 5xx, 429, connection trouble: retry later with backoff (the send may have happened
  /// on a timeout, so the caller's own record decides whether to send again).
  case transient(String)
  /// 422: the session is not in the status the call needs (WAHA says which it has): WORKING for a
  /// send, SCAN_QR_CODE for a QR or a pairing code. Defer the chip's sends, or ask again later.
  case sessionNotWorking(session: String, status: String)
  /// 404: no such session on this WAHA; mark the chip.
  case sessionNotFound(String)
  /// 422 on create: WAHA already has a session of this name. Creating is then done: a caller that
  /// creates sessions idempotently treats it as success (and may update the config with PUT).
  case sessionExists(String)
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
      "WAHA session \(session) is \(status), not in the status this call needs (WORKING to send, SCAN_QR_CODE "
        + "for a QR or pairing code); sends wait until it works (restart it if it stays so)"
    case .sessionNotFound(let session): "WAHA has no session \(session); check the chip's session name"
    case .sessionExists(let session): "WAHA already has a session \(session)"
    case .notOnWhatsApp(let masked): "\(masked) is not on WhatsApp"
    case .rejected(let status, let message): "WAHA refused the request (\(status)): \(message)"
    case .unauthorized: "WAHA refused the API key (401); check the chip's WAHA API key"
    }
  }
}
