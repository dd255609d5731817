import CampaignStore
import Campaigns
import Foundation

/// A campaign's results as a CSV that Brazilian Excel opens as it is: `;` between fields (the
/// comma is the decimal separator there), a UTF-8 byte order mark (without it Excel reads the
/// file as Windows-1252 and accents break), and times as `dd/MM/yyyy HH:mm:ss` in the tenant's
/// timezone, which Excel takes for dates.
struct CampaignReport: Sendable {
  static let byteOrderMark = "\u{FEFF}"
  static let columns = [
    "id", "phone", "state", "attempts", "chip_id", "waha_message_id", "reason", "created_at", "sending_at", "sent_at",
    "delivered_at", "read_at", "failed_at",
  ]

  private let calendar: Calendar

  init(timeZone: TimeZone) {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = timeZone
    self.calendar = calendar
  }

  /// The byte order mark and the header line.
  var header: String { Self.byteOrderMark + Self.columns.joined(separator: ";") + "\r\n" }

  /// One line (CRLF-terminated, as RFC 4180 writes them) per message.
  func lines(_ messages: [CampaignMessage]) -> String {
    var text = ""
    for message in messages {
      let fields: [String] = [
        String(message.id), message.phone.map(phone) ?? "", message.state.rawValue, String(message.attempts),
        message.chipId.map(String.init) ?? "", message.wahaMessageId.map(Self.text) ?? "",
        message.reason.map(Self.text) ?? "", time(message.createdAt), time(message.sendingAt), time(message.sentAt),
        time(message.deliveredAt), time(message.readAt), time(message.failedAt),
      ]
      text += fields.map(Self.quoted).joined(separator: ";") + "\r\n"
    }
    return text
  }

  private func phone(_ e164: String) -> String {
    (try? PhoneNumber(parsing: e164))?.spreadsheetText ?? Self.text(e164)
  }

  private func time(_ date: Date?) -> String {
    guard let date else { return "" }
    let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    func two(_ n: Int?) -> String { n.map { $0 < 10 ? "0\($0)" : String($0) } ?? "00" }
    return "\(two(c.day))/\(two(c.month))/\(c.year ?? 0) \(two(c.hour)):\(two(c.minute)):\(two(c.second))"
  }

  /// Text that came from outside (WAHA's refusal) and starts like a formula is prefixed with `'`,
  /// OWASP's advice against CSV injection: a spreadsheet would otherwise run it.
  static func text(_ value: String) -> String {
    guard let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return value }
    return "'" + value
  }

  /// RFC 4180 quoting, for a field holding the separator, a quote or a line break.
  static func quoted(_ field: String) -> String {
    guard field.contains(where: { $0 == ";" || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
    return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}
