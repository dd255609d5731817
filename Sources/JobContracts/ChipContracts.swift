/// `chips.health` (cron): asks each chip's WAHA for its session status, in case a webhook was
/// lost, by enqueuing one `chip.check` per chip.
public enum ChipsHealthJob: JobContract {
  public static let type = "chips.health"
  public typealias Parameters = NoParameters
}

/// `chip.check`: one chip's health check, a job of its own with its own timeout, so a tenant's
/// slow or hanging WAHA holds one worker slot for a few seconds and delays no other chip's check.
public enum ChipCheckJob: JobContract {
  public static let type = "chip.check"
  public struct Parameters: Codable, Sendable, Equatable {
    public var chipId: Int64
    public init(chipId: Int64) {
      self.chipId = chipId
    }
  }
}
