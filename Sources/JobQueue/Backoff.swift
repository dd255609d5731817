/// Exponential backoff with jitter: attempt n waits about `base * 2^(n-1)`, capped at `cap`, and
/// spread over [50%, 100%] of that so a burst of failures does not retry in lockstep.
public struct Backoff: Sendable, Codable, Equatable {
  public var base: Duration
  public var cap: Duration

  public init(base: Duration = .seconds(1), cap: Duration = .seconds(3600)) {
    self.base = base
    self.cap = cap
  }

  /// The delay before the attempt that follows failed attempt number `attempt` (1-based).
  public func delay(afterAttempt attempt: Int, using rng: inout some RandomNumberGenerator) -> Duration {
    let exponent = min(max(attempt - 1, 0), 40)
    let baseMs = Double(base.milliseconds)
    let capMs = Double(cap.milliseconds)
    let full = min(capMs, baseMs * pow2(exponent))
    let jittered = full / 2 + Double.random(in: 0...(full / 2), using: &rng)
    return .milliseconds(Int64(jittered.rounded()))
  }

  public func delay(afterAttempt attempt: Int) -> Duration {
    var rng = SystemRandomNumberGenerator()
    return delay(afterAttempt: attempt, using: &rng)
  }

  private func pow2(_ n: Int) -> Double { Double(sign: .plus, exponent: n, significand: 1) }
}
