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

/// `chip.provision`: connects a chip whago runs itself, step by step (container, proxy, session),
/// each safe to run again. Unique per chip; `rotate` re-applies the proxy to an existing session and
/// restarts it (after rotate-proxy).
public enum ChipProvisionJob: JobContract {
  public static let type = "chip.provision"
  public struct Parameters: Codable, Sendable, Equatable {
    public var chipId: Int64
    public var rotate: Bool?
    public init(chipId: Int64, rotate: Bool? = nil) {
      self.chipId = chipId
      self.rotate = rotate
    }
  }
}

/// `container.ensure`: the tenant's WAHA container exists, runs and answers. Unique per tenant.
public enum ContainerEnsureJob: JobContract {
  public static let type = "container.ensure"
  public struct Parameters: Codable, Sendable, Equatable {
    public var tenantId: Int64
    public init(tenantId: Int64) {
      self.tenantId = tenantId
    }
  }
}

/// `chip.release`: a deleted chip's session is logged out and deleted from its tenant's container.
public enum ChipReleaseJob: JobContract {
  public static let type = "chip.release"
  public struct Parameters: Codable, Sendable, Equatable {
    public var tenantId: Int64
    public var session: String
    public init(tenantId: Int64, session: String) {
      self.tenantId = tenantId
      self.session = session
    }
  }
}

/// `chip.restart`: a FAILED session of a chip whago runs is restarted, a few times with growing
/// waits; then the chip is marked `needs_attention`. Unique per chip.
public enum ChipRestartJob: JobContract {
  public static let type = "chip.restart"
  public struct Parameters: Codable, Sendable, Equatable {
    public var chipId: Int64
    public init(chipId: Int64) {
      self.chipId = chipId
    }
  }
}

/// `containers.monitor` (cron, every minute): samples every tenant container (state, uptime, CPU,
/// memory, sessions), starts stopped ones again, raises and clears the fleet's alerts, and removes
/// containers empty past their grace period.
public enum ContainersMonitorJob: JobContract {
  public static let type = "containers.monitor"
  public typealias Parameters = NoParameters
}
