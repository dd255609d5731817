/// How one chip spaces its sends so that it looks like a person typing, as WAHA advises against
/// bans: a random 30–60 s between messages (never a fixed period), a longer rest every few dozen,
/// and typing shown for as long as the text would take to type.
///
/// Pure: every random choice comes from the generator passed in, so tests seed one and a worker
/// passes `SystemRandomNumberGenerator`. The plan's minimum gap is a floor no setting goes under.
public struct HumanPace: Sendable, Hashable {
  /// A pause longer than the usual interval, after every `every` sends of one chip.
  public struct Rest: Sendable, Hashable {
    public var every: Int
    public var duration: ClosedRange<Duration>

    public init(every: Int = 40, duration: ClosedRange<Duration> = .seconds(5 * 60)...(.seconds(15 * 60))) {
      self.every = every
      self.duration = duration
    }
  }

  /// The random wait between two sends of one chip.
  public var interval: ClosedRange<Duration>
  /// The plan's `min_send_gap_ms`: no wait is shorter, whatever the campaign's pace says.
  public var minimumGap: Duration
  /// Nil for no rests: a campaign paced at zero for a test or a benchmark.
  public var rest: Rest?
  /// Characters a second while "typing…" shows (people type 2.5 to 4.5, per WHAGO's plan).
  public var typingSpeed: ClosedRange<Double>
  /// Bounds on the typing time, so a one-word text still shows typing and a long one does not
  /// hold the chip for minutes.
  public var typingTime: ClosedRange<Duration>

  public init(
    interval: ClosedRange<Duration> = .seconds(30)...(.seconds(60)),
    minimumGap: Duration = .zero,
    rest: Rest? = Rest(),
    typingSpeed: ClosedRange<Double> = 2.5...4.5,
    typingTime: ClosedRange<Duration> = .seconds(1)...(.seconds(20))
  ) {
    self.interval = interval
    self.minimumGap = minimumGap
    self.rest = rest
    self.typingSpeed = typingSpeed
    self.typingTime = typingTime
  }

  /// Whether the wait after the chip's `sendCount`-th send (1-based) is a rest.
  public func isRest(afterSend sendCount: Int) -> Bool {
    guard let rest, rest.every > 0, sendCount > 0 else { return false }
    return sendCount % rest.every == 0
  }

  /// The wait between the chip's `sendCount`-th send (1-based) and its next one.
  public func delay(afterSend sendCount: Int, using generator: inout some RandomNumberGenerator) -> Duration {
    let range = isRest(afterSend: sendCount) ? rest?.duration ?? interval : interval
    return max(Self.random(in: range, using: &generator), minimumGap, .zero)
  }

  /// How long to show "typing…" before sending `text`.
  public func typingDuration(for text: String, using generator: inout some RandomNumberGenerator) -> Duration {
    let slowest = max(typingSpeed.lowerBound, 0.1)
    let speed = Double.random(in: slowest...max(slowest, typingSpeed.upperBound), using: &generator)
    let shortest = Double(Self.milliseconds(typingTime.lowerBound))
    let longest = max(shortest, Double(Self.milliseconds(typingTime.upperBound)))
    let typing = (Double(text.count) / speed * 1000).rounded()
    return .milliseconds(Int64(min(max(typing, shortest), longest)))
  }

  /// A uniformly random duration in `range`, to the millisecond.
  private static func random(
    in range: ClosedRange<Duration>, using generator: inout some RandomNumberGenerator
  ) -> Duration {
    let lower = milliseconds(range.lowerBound)
    let upper = max(lower, milliseconds(range.upperBound))
    return .milliseconds(Int64.random(in: lower...upper, using: &generator))
  }

  private static func milliseconds(_ duration: Duration) -> Int64 {
    let (seconds, attoseconds) = duration.components
    return seconds * 1000 + attoseconds / 1_000_000_000_000_000
  }
}
