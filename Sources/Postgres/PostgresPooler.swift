import Foundation

/// What sits between whago and PostgreSQL, which decides what a connection may keep between
/// statements (`WHAGO_DATABASE_POOLER`).
public enum PostgresPooler: String, Sendable, CaseIterable {
  /// Nothing, or a pooler that gives each client a server session of its own: the session is
  /// ours, so the connection sets its clock and statement timeout when it starts and prepares
  /// each statement once, then runs it by name.
  case none
  /// A pooler that hands each transaction to whichever server connection is free (PgBouncer's
  /// `pool_mode = transaction`, whose 1.18 forgets named prepared statements between
  /// transactions and refuses the `options` startup parameter). Every statement is sent unnamed,
  /// with its parameters, and the only session settings are those the pooler carries to each
  /// server connection it picks (TimeZone, DateStyle, application_name). The statement timeout is
  /// not one of them: the pooler's `query_timeout` or the role's own setting applies.
  case transaction

  /// The environment variable that names the pooler.
  public static let environmentVariable = "WHAGO_DATABASE_POOLER"

  /// Reads a setting: `none` (also when empty or absent) or `transaction`. Anything else is
  /// refused with the accepted values, so a typo stops the process at start instead of sending
  /// named statements through a pooler that loses them.
  public init(setting: String?) throws(PostgresError) {
    let text = (setting ?? "").trimmingCharacters(in: .whitespaces).lowercased()
    if text.isEmpty {
      self = .none
      return
    }
    guard let pooler = PostgresPooler(rawValue: text) else {
      let accepted = Self.allCases.map(\.rawValue).joined(separator: ", ")
      throw PostgresError(.invalidSetting, "the pooler '\(setting ?? "")' is not one of: \(accepted)")
    }
    self = pooler
  }
}
