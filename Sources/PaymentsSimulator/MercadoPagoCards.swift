/// What a Mercado Pago card does, read from the card token (or payment method) the way Mercado
/// Pago's sandbox reads the test cardholder's name: APRO approves, FUND, OTHE, SECU and CALL reject
/// with their status_detail, CONT stays pending. CHAL (a 3-D Secure challenge), BLCK (a blacklisted,
/// hard-declined card) and TIMEOUT (approved, the answer held) are ours. Anything else approves.
enum MercadoPagoCards {
  struct Scenario: Equatable {
    var status: String
    var statusDetail: String
    var hold = false
  }

  static func scenario(_ token: String) -> Scenario {
    let name = token.uppercased()
    let table: [(String, Scenario)] = [
      ("TIMEOUT", Scenario(status: "approved", statusDetail: "accredited", hold: true)),
      ("FUND", Scenario(status: "rejected", statusDetail: "cc_rejected_insufficient_amount")),
      ("OTHE", Scenario(status: "rejected", statusDetail: "cc_rejected_other_reason")),
      ("SECU", Scenario(status: "rejected", statusDetail: "cc_rejected_bad_filled_security_code")),
      ("CALL", Scenario(status: "rejected", statusDetail: "cc_rejected_call_for_authorize")),
      ("BLCK", Scenario(status: "rejected", statusDetail: "cc_rejected_blacklist")),
      ("CONT", Scenario(status: "in_process", statusDetail: "pending_contingency")),
      ("CHAL", Scenario(status: "pending", statusDetail: "pending_challenge")),
      ("APRO", Scenario(status: "approved", statusDetail: "accredited")),
    ]
    return table.first { name.contains($0.0) }?.1 ?? Scenario(status: "approved", statusDetail: "accredited")
  }

  /// The charge log's word for a payment status.
  static func outcome(status: String, statusDetail: String) -> String {
    switch status {
    case "approved": "succeeded"
    case "rejected": "declined"
    default: statusDetail == "pending_challenge" ? "requires_action" : "pending"
    }
  }
}
