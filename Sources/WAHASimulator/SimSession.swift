import Foundation
import Wire

/// A WAHA session status. Open-ended on purpose: `/_sim/sessions/{s}/status` may force any status a
/// newer WAHA could send (`PASSKEY_REQUIRED`), so clients are tested against ones they do not know.
public struct SessionStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  public let rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }
  public var description: String { rawValue }

  public static let stopped = SessionStatus(rawValue: "STOPPED")
  public static let starting = SessionStatus(rawValue: "STARTING")
  public static let scanQRCode = SessionStatus(rawValue: "SCAN_QR_CODE")
  public static let working = SessionStatus(rawValue: "WORKING")
  public static let failed = SessionStatus(rawValue: "FAILED")
}

/// One simulated WhatsApp session (a chip), as WAHA keeps it.
struct SimSession: Sendable {
  struct Change: Sendable {
    var status: SessionStatus
    var timestamp: Int
  }

  let name: String
  var config: JSONValue
  var status: SessionStatus
  /// Recent status changes, newest last, as `session.status` webhooks carry them.
  var statuses: [Change] = []
  /// Bumped on every status change, so a delayed STARTING → WORKING that a stop overtook is dropped.
  var epoch = 0
  /// Whether a WhatsApp account is linked (it reached WORKING, scanned or not), so a later start goes
  /// straight to WORKING; a logout unlinks it.
  var loggedIn: Bool
  /// The number given by `auth/request-code` or by the scan; nil: none given (`meID` makes one up).
  var phone: String?
  /// The QR value while SCAN_QR_CODE, a new one on every entry; nil in any other status.
  var qr: String?

  init(name: String, config: JSONValue, status: SessionStatus, at time: Int) {
    self.name = name
    self.config = config
    self.status = status
    loggedIn = status == .working
    qr = status == .scanQRCode ? QRCodeImage.newValue() : nil
    statuses = [Change(status: status, timestamp: time)]
  }

  /// Every status change goes through here: reaching WORKING links the account, and each entry into
  /// SCAN_QR_CODE issues a new QR value (WAHA sends `session.status` SCAN_QR_CODE again for each code).
  mutating func change(to status: SessionStatus, at time: Int) {
    self.status = status
    epoch += 1
    if status == .working { loggedIn = true }
    qr = status == .scanQRCode ? QRCodeImage.newValue() : nil
    statuses.append(Change(status: status, timestamp: time))
    if statuses.count > 10 { statuses.removeFirst(statuses.count - 10) }
  }

  /// Unlinks the account: the next start asks for a QR scan again (with `SimSettings.requireScan`).
  mutating func logOut() {
    loggedIn = false
    phone = nil
  }

  /// The account's own number: the one given at the scan or the pairing code, else made up from the
  /// name, so it is the same in every run and every process, and distinct enough between sessions to
  /// tell chips apart in a log.
  var meID: String {
    if let phone { return phone + "@c.us" }
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in name.utf8 {
      hash ^= UInt64(byte)
      hash = hash &* 0x100_0000_01b3
    }
    return "55119" + String(format: "%08llu", hash % 100_000_000) + "@c.us"
  }

  var me: JSONValue { ["id": JSONValue(meID), "pushName": JSONValue("WHAGO sim \(name)")] }

  var metadata: JSONValue {
    if let metadata = config["metadata"], case .object = metadata { return metadata }
    return .null
  }

  /// `GET /api/sessions/{s}`: `me` only while the account is logged in and connected, as WAHA answers.
  var info: JSONValue {
    [
      "name": JSONValue(name), "status": JSONValue(status.rawValue), "config": config,
      "me": status == .working ? me : .null, "engine": ["engine": "NOWEB"],
    ]
  }

  /// `GET /_sim/sessions`: what WAHA shows plus what only the simulator knows (the link, the number
  /// given, the current QR value).
  var controlInfo: JSONValue {
    [
      "name": JSONValue(name), "status": JSONValue(status.rawValue), "config": config,
      "me": loggedIn ? me : .null, "logged_in": .bool(loggedIn), "phone": JSONValue(phone), "qr": JSONValue(qr),
    ]
  }

  var statusPayload: JSONValue {
    [
      "name": JSONValue(name), "status": JSONValue(status.rawValue),
      "statuses": .array(
        statuses.map { ["status": JSONValue($0.status.rawValue), "timestamp": JSONValue($0.timestamp)] }),
    ]
  }
}

/// Milliseconds since 1970, the unit of WAHA's timestamps.
func nowMilliseconds() -> Int {
  Int((Date().timeIntervalSince1970 * 1000).rounded())
}
