/// What a PayPal vaulted card does, read from its vault id: "instrument" → 422 INSTRUMENT_DECLINED,
/// "stolen" → capture DECLINED with processor code 9520 (lost or stolen: hard), "declined" →
/// capture DECLINED with 5120 (insufficient funds), "action" → PAYER_ACTION_REQUIRED (3-D Secure),
/// "timeout" → COMPLETED with the answer held; anything else COMPLETED.
enum PayPalCards {
  enum Scenario: Equatable {
    case complete
    case completeThenHold
    case captureDeclined(responseCode: String)
    case instrumentDeclined
    case payerActionRequired
  }

  static func scenario(_ vaultID: String) -> Scenario {
    let id = vaultID.lowercased()
    if id.contains("instrument") { return .instrumentDeclined }
    if id.contains("stolen") { return .captureDeclined(responseCode: "9520") }
    if id.contains("declined") { return .captureDeclined(responseCode: "5120") }
    if id.contains("action") { return .payerActionRequired }
    if id.contains("timeout") { return .completeThenHold }
    return .complete
  }
}
