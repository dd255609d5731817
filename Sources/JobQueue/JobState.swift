/// Where a job is in its life. Stored in the job hash's `s` field.
public enum JobState: String, Sendable, Codable, CaseIterable {
  /// Waiting for its due time (delayed, or backing off before a retry).
  case scheduled
  /// Waiting for a worker.
  case ready
  /// Leased by a worker and running.
  case active
  /// Finished successfully.
  case done
  /// Out of attempts, crashed its worker too often, or unrunnable; kept for an operator.
  case dead
  /// Cancelled before it started.
  case cancelled
  /// The record is gone: past its retention, or never existed.
  case unknown
}
