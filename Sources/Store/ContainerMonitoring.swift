import Foundation
import Postgres

/// One minute of one container, as the fleet monitor saw it.
public struct ContainerSample: Codable, Sendable, Equatable {
  public var containerName: String
  public var sampledAt: Date
  public var state: String
  public var uptimeS: Int64?
  public var cpuPercent: Double?
  public var memoryPercent: Double?
  public var memoryBytes: Int64?
  public var sessions: Int

  public init(
    containerName: String, sampledAt: Date = Date(), state: String, uptimeS: Int64?, cpuPercent: Double?,
    memoryPercent: Double?, memoryBytes: Int64?, sessions: Int
  ) {
    self.containerName = containerName
    self.sampledAt = sampledAt
    self.state = state
    self.uptimeS = uptimeS
    self.cpuPercent = cpuPercent
    self.memoryPercent = memoryPercent
    self.memoryBytes = memoryBytes
    self.sessions = sessions
  }
}

/// What operators are warned of about the container fleet.
public enum ContainerAlertKind: String, PostgresState, Sendable, CaseIterable {
  /// Not running for longer than the monitor's limit (an hour by default), restarts included.
  case stopped
  /// Above 80% CPU for five minutes.
  case cpu
  /// Above 90% of its memory limit.
  case memory
  /// A `waha_plus_user_*` container whago labelled whose tenant is gone.
  case orphan
  /// Running, but its WAHA did not answer 3 samples in a row (it was restarted).
  case unresponsive
  /// Over 90% of the container ports are taken.
  case ports
}

public struct ContainerAlert: Codable, Sendable, Equatable {
  public var id: Int64
  public var kind: ContainerAlertKind
  public var subject: String
  public var detail: String
  public var raisedAt: Date
  public var clearedAt: Date?
}

/// One bar of the fleet's utilization chart.
public struct FleetUsage: Codable, Sendable, Equatable {
  public var at: Date
  public var containers: Int
  public var running: Int
  public var sessions: Int
  public var cpuPercent: Double
  public var memoryBytes: Int64
}

extension Store {
  /// Records the sample and keeps the container's `stopped_since` (when the monitor first saw it
  /// down, cleared once it runs), which the stopped alert is measured from. Returns it.
  @discardableResult
  public func recordContainerSample(_ sample: ContainerSample, containerID: Int64?) async throws -> Date? {
    try await pool.transaction { connection in
      try connection.query(
        """
        INSERT INTO container_samples (container_name, state, uptime_s, cpu_percent, memory_percent, memory_bytes, sessions)
        VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING
        """,
        [
          sample.containerName, sample.state, sample.uptimeS, sample.cpuPercent, sample.memoryPercent,
          sample.memoryBytes, sample.sessions,
        ])
      guard let containerID else { return nil }
      return try connection.query(
        """
        UPDATE waha_containers SET stopped_since = CASE WHEN $2 THEN NULL ELSE coalesce(stopped_since, now()) END
        WHERE id = $1 RETURNING stopped_since
        """, [containerID, sample.state == "running"]
      ).first?.decodeIfPresent("stopped_since")
    }
  }

  /// Whether the container's last `minutes` samples (at least that many, all within `minutes + 1`
  /// minutes) were all above `percent` CPU.
  public func cpuAbove(_ percent: Double, container: String, samples count: Int, within window: Duration) async throws
    -> Bool
  {
    let rows = try await pool.query(
      """
      SELECT cpu_percent FROM container_samples
      WHERE container_name = $1 AND sampled_at > now() - make_interval(secs => $2)
      ORDER BY sampled_at DESC LIMIT $3
      """, [container, Double(window.components.seconds), count])
    guard rows.count >= count else { return false }
    return try rows.rows.allSatisfy { (try $0.decodeIfPresent("cpu_percent", as: Double.self) ?? 0) > percent }
  }

  /// Raises an alert unless the same one is active. True when it is new.
  @discardableResult
  public func raiseContainerAlert(_ kind: ContainerAlertKind, subject: String, detail: String) async throws -> Bool {
    try await !pool.query(
      """
      INSERT INTO container_alerts (kind, subject, detail) VALUES ($1, $2, $3)
      ON CONFLICT (kind, subject) WHERE cleared_at IS NULL DO NOTHING RETURNING id
      """, [kind, subject, detail]
    ).rows.isEmpty
  }

  /// Clears the alert if it is active. True when it was.
  @discardableResult
  public func clearContainerAlert(_ kind: ContainerAlertKind, subject: String) async throws -> Bool {
    try await !pool.query(
      """
      UPDATE container_alerts SET cleared_at = now() WHERE kind = $1 AND subject = $2 AND cleared_at IS NULL
      RETURNING id
      """, [kind, subject]
    ).rows.isEmpty
  }

  /// Active alerts first, then the latest cleared ones.
  public func containerAlerts(includeCleared: Bool = false, limit: Int = 100) async throws -> [ContainerAlert] {
    try await pool.query(
      """
      SELECT id, kind, subject, detail, raised_at, cleared_at FROM container_alerts
      WHERE $1 OR cleared_at IS NULL ORDER BY cleared_at IS NOT NULL, raised_at DESC LIMIT $2
      """, [includeCleared, limit]
    ).decode(ContainerAlert.self)
  }

  /// The last sample of each container.
  public func latestContainerSamples() async throws -> [ContainerSample] {
    try await pool.query(
      """
      SELECT DISTINCT ON (container_name) container_name, sampled_at, state, uptime_s, cpu_percent, memory_percent,
        memory_bytes, sessions
      FROM container_samples WHERE sampled_at > now() - interval '1 day'
      ORDER BY container_name, sampled_at DESC
      """
    ).decode(ContainerSample.self)
  }

  /// The fleet per `bucket` over `window` (the dashboard's 7-day chart: hourly).
  public func fleetUsage(window: Duration, bucket: Duration) async throws -> [FleetUsage] {
    try await pool.query(
      """
      WITH per AS (
        SELECT to_timestamp(floor(extract(epoch FROM sampled_at) / $2) * $2) AS at, container_name,
          bool_or(state = 'running') AS running, max(sessions) AS sessions, avg(cpu_percent) AS cpu,
          max(memory_bytes) AS memory
        FROM container_samples WHERE sampled_at > now() - make_interval(secs => $1)
        GROUP BY 1, 2
      )
      SELECT at, count(*)::int AS containers, count(*) FILTER (WHERE running)::int AS running,
        coalesce(sum(sessions), 0)::int AS sessions, coalesce(sum(cpu), 0)::float8 AS cpu_percent,
        coalesce(sum(memory), 0)::bigint AS memory_bytes
      FROM per GROUP BY at ORDER BY at
      """, [Double(window.components.seconds), Double(bucket.components.seconds)]
    ).decode(FleetUsage.self)
  }

  /// Drops samples past `age` (7 days); returns how many.
  @discardableResult
  public func pruneContainerSamples(olderThan age: Duration) async throws -> Int {
    try await pool.query(
      "DELETE FROM container_samples WHERE sampled_at < now() - make_interval(secs => $1) RETURNING 1",
      [Double(age.components.seconds)]
    ).count
  }

  /// Containers empty for longer than `grace`, for the monitor to remove.
  public func emptyContainers(olderThan grace: Duration) async throws -> [WAHAContainer] {
    try await pool.query(
      """
      \(Self.containerSelect)
      WHERE w.empty_since < now() - make_interval(secs => $1)
        AND NOT EXISTS (SELECT 1 FROM chips c WHERE c.container_id = w.id)
      """, [Double(grace.components.seconds)]
    ).decode(WAHAContainer.self)
  }

  /// Forgets a container Docker removed, unless a chip came meanwhile (then it stays). True when gone.
  @discardableResult
  public func forgetContainer(id: Int64) async throws -> Bool {
    // The row lock orders this after a chip registration that holds it; the count then sees its chip.
    try await pool.transaction { connection in
      guard try connection.query("SELECT id FROM waha_containers WHERE id = $1 FOR UPDATE", [id]).first != nil,
        try connection.query("SELECT count(*)::int AS n FROM chips WHERE container_id = $1", [id])[0]
          .decode("n", as: Int.self) == 0
      else { return false }
      try connection.query("DELETE FROM waha_containers WHERE id = $1", [id])
      return true
    }
  }

  /// Counts one more sample in a row in which the container's WAHA did not answer (or, with
  /// `answered`, starts over). Returns the count, so exactly one sample sees each threshold.
  @discardableResult
  public func recordContainerAnswer(id: Int64, answered: Bool) async throws -> Int {
    try await pool.query(
      """
      UPDATE waha_containers SET unanswered_samples = CASE WHEN $2 THEN 0 ELSE unanswered_samples + 1 END
      WHERE id = $1 RETURNING unanswered_samples
      """, [id, answered]
    ).first?.decode("unanswered_samples") ?? 0
  }

  /// For each chip of a container that has a proxy: its session, its id and the proxy username
  /// its session should carry now (what a rotation wrote).
  public func expectedProxyUsernames(containerID: Int64) async throws -> [String: (chip: Int64, username: String)] {
    var expected: [String: (chip: Int64, username: String)] = [:]
    for row in try await pool.query(
      """
      SELECT c.id, c.session, c.proxy_session, p.username, p.country, p.username_template
      FROM chips c JOIN proxies p ON p.id = c.proxy_id WHERE c.container_id = $1
      """, [containerID]
    ).rows {
      expected[try row.decode("session")] = (
        try row.decode("id"),
        ProxySession.username(
          template: try row.decode("username_template"), username: try row.decode("username"),
          country: try row.decodeIfPresent("country"), session: try row.decode("proxy_session"))
      )
    }
    return expected
  }

  /// The sessions whago keeps in a container (its chips'), to tell them from sessions left behind.
  public func sessionNames(containerID: Int64) async throws -> Set<String> {
    Set(
      try await pool.query("SELECT session FROM chips WHERE container_id = $1", [containerID]).rows.map {
        try $0.decode("session")
      })
  }

  /// A container by its name or Docker id (the CLI's and the dashboard's argument).
  public func container(named reference: String) async throws -> WAHAContainer? {
    try await pool.query(
      """
      \(Self.containerSelect)
      WHERE w.name = $1 OR w.docker_id = $1 OR (length($1) >= 12 AND starts_with(w.docker_id, $1)) LIMIT 1
      """, [reference]
    ).decode(WAHAContainer.self).first
  }
}
