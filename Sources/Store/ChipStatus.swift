import Postgres

/// A chip's WAHA session status, as the chips table stores it. A status WAHA adds later
/// (PASSKEY_*) is kept as `unknown` rather than refused, so a newer WAHA never breaks the webhook
/// or the health check.
public enum ChipStatus: String, PostgresState, Sendable {
  case stopped = "STOPPED"
  case starting = "STARTING"
  case scanQRCode = "SCAN_QR_CODE"
  case working = "WORKING"
  case failed = "FAILED"
  case unknown = "UNKNOWN"

  /// The status WAHA reported, in its own spelling.
  public init(reported: String) {
    self = Self(rawValue: reported) ?? .unknown
  }
}
