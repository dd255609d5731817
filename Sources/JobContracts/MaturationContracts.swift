/// `maturation.tick` (cron): fixes each program's day and plans its messages.
public enum MaturationTickJob: JobContract {
  public static let type = "maturation.tick"
  public typealias Parameters = NoParameters
}

/// `maturation.exchange`: sends one planned warm-up message.
public enum MaturationExchangeJob: JobContract {
  public static let type = "maturation.exchange"
  public struct Parameters: Codable, Sendable, Equatable {
    public var exchangeId: Int64
    public init(exchangeId: Int64) { self.exchangeId = exchangeId }
  }
}
