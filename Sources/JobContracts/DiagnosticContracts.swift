/// `diag.noop`: does nothing; measures the queue itself.
public enum DiagNoopJob: JobContract {
  public static let type = "diag.noop"
  public typealias Parameters = NoParameters
}

/// `diag.sleep {"ms": N}`: sleeps, honoring cancellation; stands in for slow work.
public enum DiagSleepJob: JobContract {
  public static let type = "diag.sleep"
  public struct Parameters: Codable, Sendable {
    public var ms: Int
    public init(ms: Int) { self.ms = ms }
  }
}

/// `diag.fail {"times": N}`: fails its first N attempts, then succeeds.
public enum DiagFailJob: JobContract {
  public static let type = "diag.fail"
  public struct Parameters: Codable, Sendable {
    public var times: Int
    public init(times: Int) { self.times = times }
  }
}

/// `diag.echo {"message"?, "witness"?}`: logs its message; a witness counts its own runs in Redis.
public enum DiagEchoJob: JobContract {
  public static let type = "diag.echo"
  public struct Parameters: Codable, Sendable {
    public var witness: Bool?
    public var message: String?
    public init(witness: Bool? = nil, message: String? = nil) {
      self.witness = witness
      self.message = message
    }
  }
}

/// `diag.crash`: kills its worker process, for crash-recovery tests.
public enum DiagCrashJob: JobContract {
  public static let type = "diag.crash"
  public typealias Parameters = NoParameters
}
