import Docker
import Foundation
import JobCatalog
import JobContracts
import JobQueue
import Logging
import Store
import WAHA
import Worker

/// `containers.monitor`: the fleet as operators need it at 3 a.m. Every minute, per container whago
/// created: its state, uptime, CPU % and memory % (computed as `docker stats` does: CPU against the
/// host's time × online CPUs, memory without the page cache) and its sessions, kept 7 days. A
/// stopped container is started again (`container.ensure`). Alerts are raised once and cleared
/// when their condition ends: stopped past the limit, CPU high for five samples, memory high, an
/// orphan (a container whago labelled whose tenant has none), the port pool nearly full. An empty
/// container past its grace period is removed.
public struct ContainerMonitor: JobHandler {
  public typealias Contract = ContainersMonitorJob

  /// The thresholds; the defaults are WHAGO's PRD's.
  public struct Thresholds: Sendable {
    public var stoppedFor: Duration = .seconds(3600)
    public var cpuPercent = 80.0
    public var cpuSamples = 5
    public var memoryPercent = 90.0
    public var portsUsed = 0.9
    public var keepSamples: Duration = .seconds(7 * 86400)
    /// Samples in a row without an answer from a running container's WAHA before it is restarted.
    public var unansweredSamples = 3
    /// How long one sample waits for that answer.
    public var probeTimeout: Duration = .seconds(5)
    public init() {}
  }

  let fleet: ContainerFleet
  let catalog: JobCatalog
  let thresholds: Thresholds

  public init(fleet: ContainerFleet, catalog: JobCatalog, thresholds: Thresholds = Thresholds()) {
    self.fleet = fleet
    self.catalog = catalog
    self.thresholds = thresholds
  }

  public func run(_ parameters: NoParameters, context: JobContext) async throws {
    guard fleet.settings.dockerConfigured else { return }  // no engine: no containers of whago's to watch
    do {
      try await watch(context)
    } catch let error as DockerError {
      // The engine is away: said once a minute in the log, not a dead letter a minute; the next
      // run samples again.
      guard case .unreachable = error else { throw error }
      context.logger.error(
        "the Docker engine does not answer; containers are not watched", metadata: ["error": "\(error)"])
    }
  }

  func watch(_ context: JobContext) async throws {
    let store = fleet.store
    let docker = fleet.docker
    let containers = try await store.containers()
    // Up to 8 containers at once: a real engine takes a second or two per `stats` (it waits for a
    // second CPU reading), and a hundred in a row would outlast the job's timeout.
    var restarts: [JobSpec] = []
    let watched = containers.filter { $0.dockerId != nil }
    for start in stride(from: 0, to: watched.count, by: 8) {
      let batch = watched[start..<min(start + 8, watched.count)]
      restarts += try await withThrowingTaskGroup(of: JobSpec?.self) { group in
        for container in batch { group.addTask { try await sample(container, context) } }
        return try await group.reduce(into: [JobSpec]()) { if let spec = $1 { $0.append(spec) } }
      }
    }
    if !restarts.isEmpty { _ = try await context.broker.enqueue(restarts) }

    // Alerts about containers that are gone (removed, or their tenant deleted) end with them.
    let known = Set(containers.map(\.name))
    for alert in try await store.containerAlerts()
    where [.stopped, .cpu, .memory, .unresponsive].contains(alert.kind) && !known.contains(alert.subject) {
      try await clear(alert.kind, alert.subject, context)
    }

    // Orphans: containers whago labelled that no tenant's row names.
    let labelled = try await docker.list(all: true, labels: [ContainerFleet.managedLabel: "true"])
    var orphans: Set<String> = []
    for summary in labelled {
      let name = summary.names.first.map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 } ?? summary.id
      guard name.hasPrefix("waha_plus_user_"), !known.contains(name) else { continue }
      orphans.insert(name)
      try await raise(
        .orphan, name, "tenant \(summary.labels[ContainerFleet.tenantLabel] ?? "?") has no container row", context)
    }
    for alert in try await store.containerAlerts() where alert.kind == .orphan && !orphans.contains(alert.subject) {
      try await clear(.orphan, alert.subject, context)
    }

    // The port pool.
    let ports = fleet.settings.containers.ports
    let range = "\(ports.lowerBound)-\(ports.upperBound)"
    let taken = containers.filter { ports.contains($0.hostPort) }.count
    if Double(taken) / Double(ports.count) > thresholds.portsUsed {
      try await raise(.ports, range, "\(taken) of \(ports.count) container ports are taken", context)
    } else {
      try await clear(.ports, range, context)
    }

    // Containers whose last chip left more than the grace period ago.
    for container in try await store.emptyContainers(olderThan: fleet.settings.emptyGrace) {
      do {
        try await docker.remove(container.dockerId ?? container.name, force: true)
      } catch {
        if case .notFound = error {} else { throw error }
      }
      if try await store.forgetContainer(id: container.id) {
        context.logger.info("empty container removed", metadata: ["container": "\(container.name)"])
      }
    }
    try await store.pruneContainerSamples(olderThan: thresholds.keepSamples)
  }

  /// Samples one container, raises or clears its alerts, and returns the job that starts it again
  /// when it is down while holding chips.
  func sample(_ container: WAHAContainer, _ context: JobContext) async throws -> JobSpec? {
    let store = fleet.store
    let docker = fleet.docker
    let reference = container.dockerId ?? container.name
    let details: ContainerDetails?
    do {
      details = try await docker.inspect(reference)
    } catch {
      if case .notFound = error { details = nil } else { throw error }
    }
    let running = details?.state.running == true
    var stats: ContainerStats?
    if running { stats = try? await docker.stats(reference) }
    let uptime = running ? details?.state.startedAt.map { Int64(Date().timeIntervalSince($0)) } : nil
    let stoppedSince = try await store.recordContainerSample(
      ContainerSample(
        containerName: container.name, state: details?.state.status.rawValue ?? "missing", uptimeS: uptime,
        cpuPercent: stats?.cpuPercent, memoryPercent: stats?.memoryPercent,
        memoryBytes: stats.map { Int64($0.memoryUsed) }, sessions: container.sessions),
      containerID: container.id)
    if let stoppedSince, Date().timeIntervalSince(stoppedSince) >= Double(thresholds.stoppedFor.components.seconds) {
      try await raise(
        .stopped, container.name, "not running since \(stoppedSince) (\(details?.state.status.rawValue ?? "missing"))",
        context)
    } else if running {
      try await clear(.stopped, container.name, context)
    }
    guard running else {
      // Not measured while down: its load alerts end; the stopped one speaks for it.
      try await clear(.memory, container.name, context)
      try await clear(.cpu, container.name, context)
      guard container.sessions > 0 else { return nil }
      return try ContainerEnsureJob.spec(
        .init(tenantId: container.tenantId.rawValue), catalog: catalog, key: "container-ensure:\(container.id)",
        keyHeldWhileAlive: true, tenant: container.tenantName)
    }
    if let stats, stats.memoryPercent > thresholds.memoryPercent {
      try await raise(
        .memory, container.name, String(format: "memory at %.1f%% of its limit", stats.memoryPercent), context)
    } else {
      try await clear(.memory, container.name, context)
    }
    try await releaseLeftSessions(container, context)
    let window = Duration.seconds(60 * (thresholds.cpuSamples + 1))
    if try await store.cpuAbove(
      thresholds.cpuPercent, container: container.name, samples: thresholds.cpuSamples, within: window)
    {
      try await raise(
        .cpu, container.name, "CPU above \(Int(thresholds.cpuPercent))% for the last \(thresholds.cpuSamples) samples",
        context)
    } else {
      try await clear(.cpu, container.name, context)
    }
    return nil
  }

  /// Asks the container's WAHA for its sessions, which is also the sample's liveness probe: a
  /// container Docker calls running whose WAHA does not answer 3 samples in a row (its process
  /// wedged, or stopped) is restarted and raises `unresponsive`, cleared once it answers; still
  /// silent, it is restarted again every 30 samples, not in a loop.
  ///
  /// Then a `chip_*` session with no chip (its `chip.release` was never enqueued: serve died
  /// between deleting the chip and enqueuing it) is logged out and deleted, so no phone stays
  /// linked to a chip that is gone. A session created after the chip list was read is never
  /// touched: the list is read after WAHA's. Other sessions (not whago's) are left alone.
  func releaseLeftSessions(_ container: WAHAContainer, _ context: JobContext) async throws {
    let waha = fleet.client(container, timeout: thresholds.probeTimeout)
    guard let listed = try? await waha.sessions() else {
      let silent = try await fleet.store.recordContainerAnswer(id: container.id, answered: false)
      if silent == thresholds.unansweredSamples || (silent > 0 && silent % 30 == 0) {
        try await raise(
          .unresponsive, container.name, "its WAHA did not answer \(silent) samples in a row; restarted", context)
        try await fleet.docker.restart(container.dockerId ?? container.name)
      }
      return
    }
    try await fleet.store.recordContainerAnswer(id: container.id, answered: true)
    try await clear(.unresponsive, container.name, context)
    let kept = try await fleet.store.sessionNames(containerID: container.id)
    for session in listed where session.name.hasPrefix("chip_") && !kept.contains(session.name) {
      try? await waha.deleteSession(session.name)
      context.logger.notice(
        "session without a chip deleted", metadata: ["container": "\(container.name)", "session": "\(session.name)"])
    }
    // A session on another proxy id than its chip's (a rotation whose job was never enqueued) is
    // brought in line by `chip.provision`, which compares and restarts it.
    let expected = try await fleet.store.expectedProxyUsernames(containerID: container.id)
    var fixes: [JobSpec] = []
    for session in listed {
      guard let want = expected[session.name], let have = session.config?.proxy?.username, have != want.username,
        let spec = try? ChipProvisionJob.spec(
          .init(chipId: want.chip), catalog: catalog, key: "chip-provision:\(want.chip)", keyHeldWhileAlive: true,
          tenant: container.tenantName)
      else { continue }
      fixes.append(spec)
    }
    if !fixes.isEmpty {
      _ = try await context.broker.enqueue(fixes)
      context.logger.notice(
        "sessions on an old proxy id brought in line",
        metadata: ["container": "\(container.name)", "count": "\(fixes.count)"])
    }
  }

  func raise(_ kind: ContainerAlertKind, _ subject: String, _ detail: String, _ context: JobContext) async throws {
    if try await fleet.store.raiseContainerAlert(kind, subject: subject, detail: detail) {
      context.logger.warning(
        "container alert", metadata: ["alert": "\(kind.rawValue)", "subject": "\(subject)", "detail": "\(detail)"])
    }
  }

  func clear(_ kind: ContainerAlertKind, _ subject: String, _ context: JobContext) async throws {
    if try await fleet.store.clearContainerAlert(kind, subject: subject) {
      context.logger.notice(
        "container alert cleared", metadata: ["alert": "\(kind.rawValue)", "subject": "\(subject)"])
    }
  }
}
