/// How many warm-up messages a program sends on each of its days. WHAGO's product plan: 5 to 10 a
/// day on days 1 to 3, 20 to 30 on days 4 to 7, 50 to 80 on days 8 to 14, 100 to 200 from day 15
/// ("production"). A program may instead give its own ramp, one number per day, the last repeating.
public struct MaturationRamp: Sendable, Equatable {
  public let custom: [Int]?

  public init(custom: [Int]? = nil) { self.custom = custom }

  /// The range today's quota is drawn from (a single value for a custom ramp).
  public func range(forDay day: Int) -> ClosedRange<Int> {
    if let custom, let last = custom.last {
      let value = day - 1 < custom.count ? custom[max(0, day - 1)] : last
      return value...value
    }
    switch day {
    case ..<4: return 5...10
    case 4...7: return 20...30
    case 8...14: return 50...80
    default: return 100...200
    }
  }

  /// Today's quota, drawn once when the day is first planned and kept.
  public func quota(forDay day: Int, using generator: inout some RandomNumberGenerator) -> Int {
    Int.random(in: range(forDay: day), using: &generator)
  }
}
