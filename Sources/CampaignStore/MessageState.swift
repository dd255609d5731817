import Postgres

/// One recipient's message, as `campaign_messages.state` stores it. Acks only move it forward:
/// sent, then delivered, then read.
public enum MessageState: String, PostgresState, Sendable {
  case pending
  /// A sender run owns it (its fence is recorded) and may have handed it to WAHA.
  case sending
  case sent
  case delivered
  case read
  case failed
  case skipped
}
