/// `chips.health` (cron): asks each chip's WAHA for its session status, in case a webhook was lost.
public enum ChipsHealthJob: JobContract {
  public static let type = "chips.health"
  public typealias Parameters = NoParameters
}
