/// A recipient who passed every check: a valid number, not a duplicate, every template variable
/// present, within the plan's list size.
public struct Recipient: Sendable, Hashable {
  /// The row as the tenant counts it: 1-based among the data rows (the CSV header is not a row).
  public let row: Int
  public let phone: PhoneNumber
  /// Values by variable name (trimmed, lowercased, as templates name them), blanks left out.
  public let variables: [String: String]
}

/// A row that was refused, with the reason to show the tenant. `phone` is the text as given,
/// so the tenant can find the row; it belongs in the API response, never in a log line.
public struct RejectedRecipient: Sendable, Hashable {
  public let row: Int
  public let phone: String
  public let reason: RecipientRejection
}
