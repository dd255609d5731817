import Postgres

/// Where a warm-up program is, as `maturation_programs.status` stores it.
public enum MaturationStatus: String, PostgresState, Sendable {
  /// Its `start_at` is still ahead; the first tick after it makes it active.
  case scheduled
  case active
  case paused
  case stopped
  case completed
}

/// What a tenant may ask of a running program (`POST /v1/maturation/{id}/pause`, …).
public enum MaturationCommand: String, Sendable, CaseIterable, CustomStringConvertible {
  case pause
  case resume
  case stop

  public var description: String { rawValue }
}

/// One planned warm-up message's state, as `maturation_exchanges.state` stores it.
public enum ExchangeState: String, PostgresState, Sendable {
  case planned
  /// A run owns it and may have handed it to WAHA.
  case sending
  case sent
  case failed
  case skipped
}
