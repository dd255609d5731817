import Foundation
import HTTPTypes
import Logging
import Wire

/// The simulated engine: every container and its life. Create, start, stop, restart and remove
/// behave as Docker's do, with real child processes: `start` spawns the configured command, a
/// child that exits on its own leaves its container `exited` with its status (and, under
/// `always`/`unless-stopped`/`on-failure`, `restarting` for `restartDelay`, then running again with
/// a new process), and a stop sends SIGTERM, then SIGKILL after the grace period. The actor orders
/// every change; waiting for a process to die suspends (never blocks), so other requests go on.
actor Engine {
  private var containers: [String: SimContainer] = [:]
  private let command: ContainerCommand
  /// Repositories the registry has (`pull` finds them); nil: any image.
  private let images: Set<String>?
  /// Repositories on this host (`create` finds them): all of `images` unless pulls are required.
  private var pulled: Set<String>?
  private let restartDelay: Duration
  private let logger: Logger
  private let inherited = ProcessInfo.processInfo.environment
  private var shuttingDown = false
  private var restartTokens = 0

  init(command: ContainerCommand, images: [String]?, requirePull: Bool = false, restartDelay: Duration, logger: Logger)
  {
    self.command = command
    self.images = images.map { Set($0.map(Self.repository)) }
    pulled = requirePull ? [] : nil
    self.restartDelay = restartDelay
    self.logger = logger
  }

  // MARK: Lifecycle

  func create(name requested: String?, _ request: CreateRequest) throws(EngineError) -> String {
    let name: String
    if let requested, !requested.isEmpty {
      name = requested.hasPrefix("/") ? String(requested.dropFirst()) : requested
      guard SimIDs.isValidName(name) else {
        throw .badParameter("Invalid container name (\(name)), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
      }
      if let holder = containers.values.first(where: { $0.name == name }) { throw .nameInUse(name, by: holder.id) }
    } else {
      name = "sim_" + String(SimIDs.containerID().prefix(12))
    }
    if let images, !images.contains(Self.repository(request.image)) {
      throw .noSuchImage(request.image.contains(":") ? request.image : request.image + ":latest")
    }
    if let pulled, !pulled.contains(Self.repository(request.image)) {
      throw .noSuchImage(request.image.contains(":") ? request.image : request.image + ":latest")
    }
    let id = SimIDs.containerID()
    containers[id] = SimContainer(id: id, name: name, spec: request)
    logger.info("container created", metadata: ["container": "\(name)", "image": "\(request.image)"])
    return id
  }

  /// False when it was already running (Docker's 304).
  func start(_ reference: String) throws(EngineError) -> Bool {
    let id = try resolve(reference)
    guard let container = containers[id], container.status != .running else { return false }
    container.restartTask?.cancel()
    containers[id]?.restartTask = nil
    try launch(id)
    return true
  }

  /// False when it was not running (Docker's 304).
  func stop(_ reference: String, grace: Duration) async throws(EngineError) -> Bool {
    let id = try resolve(reference)
    guard let container = containers[id] else { throw .noSuchContainer(reference) }
    switch container.status {
    case .created, .exited:
      return false
    case .restarting:
      container.restartTask?.cancel()
      containers[id]?.restartTask = nil
      containers[id]?.status = .exited
      containers[id]?.stoppedByAPI = true
      return true
    case .running:
      guard let process = container.process else { return false }
      containers[id]?.stoppedByAPI = true
      let status = await Self.terminate(process, grace: grace)
      recordExit(id: id, process: process, status: status)
      return true
    }
  }

  func restart(_ reference: String, grace: Duration) async throws(EngineError) {
    _ = try await stop(reference, grace: grace)
    _ = try start(reference)
  }

  func remove(_ reference: String, force: Bool) async throws(EngineError) {
    let id = try resolve(reference)
    guard let container = containers[id] else { throw .noSuchContainer(reference) }
    if container.status == .running || container.status == .restarting, !force {
      throw EngineError(
        status: .conflict,
        message: "You cannot remove a \(container.status.rawValue) container \(id). "
          + "Stop the container before attempting removal or force remove")
    }
    container.restartTask?.cancel()
    containers[id]?.restartTask = nil
    containers[id]?.stoppedByAPI = true
    if let process = container.process {
      process.signal(SIGKILL)
      recordExit(id: id, process: process, status: await process.exit.wait())
    }
    containers[id] = nil
    logger.info("container removed", metadata: ["container": "\(container.name)"])
  }

  /// Stops every container (SIGTERM, SIGKILL after 5 s) and waits for their processes to be gone:
  /// the simulator leaves no child behind.
  func shutdown() async {
    shuttingDown = true
    var running: [(String, ContainerProcess)] = []
    for (id, container) in containers {
      container.restartTask?.cancel()
      containers[id]?.restartTask = nil
      containers[id]?.stoppedByAPI = true
      if container.status == .restarting { containers[id]?.status = .exited }
      if let process = container.process { running.append((id, process)) }
    }
    let ended = await withTaskGroup(of: (String, ContainerProcess, ExitStatus).self) { group in
      for (id, process) in running {
        group.addTask { (id, process, await Self.terminate(process, grace: .seconds(5))) }
      }
      var ended: [(String, ContainerProcess, ExitStatus)] = []
      for await result in group { ended.append(result) }
      return ended
    }
    for (id, process, status) in ended {
      recordExit(id: id, process: process, status: status)
      await process.join()
    }
    if !running.isEmpty { logger.info("stopped every container", metadata: ["count": "\(running.count)"]) }
  }

  // MARK: Reading

  func list(all: Bool, filters: ContainerFilters) -> JSONValue {
    let chosen = containers.values.filter { (all || $0.status == .running) && filters.matches($0) }
    return .array(chosen.sorted { $0.created > $1.created }.map(\.summary))
  }

  func inspect(_ reference: String) throws(EngineError) -> JSONValue {
    try container(reference).details
  }

  func stats(_ reference: String) throws(EngineError) -> JSONValue {
    let id = try resolve(reference)
    guard var container = containers[id] else { throw .noSuchContainer(reference) }
    guard container.status == .running, container.pid > 0 else {
      return UsageSampler.stopped(id: id, name: container.name)
    }
    let sample = container.usage.sample(
      id: id, name: container.name, pid: container.pid, memoryLimit: container.spec.memory,
      cpuPercent: container.cpuPercent, memoryPercent: container.memoryPercent)
    containers[id] = container
    return sample
  }

  func logs(_ reference: String) throws(EngineError) -> OutputLog {
    try container(reference).output
  }

  /// Every container in Docker's inspect shape (environment included) plus the simulator's own state.
  func everything() -> JSONValue {
    .array(containers.values.sorted { $0.created < $1.created }.map(\.everything))
  }

  // MARK: Faults

  /// Kills the process as a crash would, reporting `code`; the restart policy applies unless `restart` is false.
  func crash(_ reference: String, code: Int, restart: Bool, oom: Bool) async throws(EngineError) -> JSONValue {
    let id = try resolve(reference)
    guard let process = containers[id]?.process, containers[id]?.status == .running else {
      throw EngineError(status: .conflict, message: "Container \(id) is not running")
    }
    containers[id]?.forcedExit = .init(code: code, restart: restart, oom: oom)
    process.signal(SIGKILL)
    recordExit(id: id, process: process, status: await process.exit.wait())
    return try container(id).details
  }

  /// SIGSTOP (`hang`) or SIGCONT: the process stays, but stops answering.
  func suspend(_ reference: String, _ suspended: Bool) throws(EngineError) -> JSONValue {
    let id = try resolve(reference)
    guard let process = containers[id]?.process, containers[id]?.status == .running else {
      throw EngineError(status: .conflict, message: "Container \(id) is not running")
    }
    process.signal(suspended ? SIGSTOP : SIGCONT)
    containers[id]?.hung = suspended
    return try container(id).everything
  }

  /// The CPU or memory percentage stats report from now on; nil: the real reading again.
  func setUsage(_ reference: String, cpu: Double??, memory: Double??) throws(EngineError) -> JSONValue {
    let id = try resolve(reference)
    if let cpu { containers[id]?.cpuPercent = cpu }
    if let memory { containers[id]?.memoryPercent = memory }
    return try container(id).everything
  }

  // MARK: Internals

  /// An id, a name (with or without its slash) or an id's unique prefix, as Docker takes them.
  private func resolve(_ reference: String) throws(EngineError) -> String {
    if containers[reference] != nil { return reference }
    let bare = reference.hasPrefix("/") ? String(reference.dropFirst()) : reference
    if let named = containers.values.first(where: { $0.name == bare }) { return named.id }
    let matches = containers.keys.filter { $0.hasPrefix(reference) }
    guard !reference.isEmpty, matches.count == 1 else { throw .noSuchContainer(reference) }
    return matches[0]
  }

  private func container(_ reference: String) throws(EngineError) -> SimContainer {
    let id = try resolve(reference)
    guard let container = containers[id] else { throw .noSuchContainer(reference) }
    return container
  }

  /// Spawns the container's process, unless its host port is held by another running container.
  private func launch(_ id: String) throws(EngineError) {
    guard var container = containers[id] else { throw .noSuchContainer(id) }
    let binding = container.binding
    if let binding,
      containers.values.contains(where: {
        $0.id != id && $0.status == .running && $0.binding?.hostPort == binding.hostPort
      })
    {
      throw .portAllocated(name: container.name, id: id, hostIP: binding.hostIP, port: binding.hostPort)
    }
    let plan = command.launch(
      name: container.name, id: id, environment: container.spec.environment, hostPort: binding?.hostPort,
      inherited: inherited)
    let process: ContainerProcess
    do {
      process = try ContainerProcess.spawn(
        executable: plan.executable, arguments: plan.arguments, environment: plan.environment,
        output: container.output)
    } catch {
      container.error = "failed to create task for container: \(error): unknown"
      container.exitCode = 127
      containers[id] = container
      throw EngineError(status: .internalServerError, message: container.error)
    }
    container.process = process
    container.status = .running
    container.startedAt = Date()
    container.error = ""
    container.stoppedByAPI = false
    container.forcedExit = nil
    container.hung = false
    container.usage.started()
    containers[id] = container
    logger.info("container started", metadata: ["container": "\(container.name)", "pid": "\(process.pid)"])
    Task {
      let status = await process.exit.wait()
      self.recordExit(id: id, process: process, status: status)
    }
  }

  /// Records how the container's process ended (once: the watcher and a stop may both report it)
  /// and schedules the restart its policy asks for.
  private func recordExit(id: String, process: ContainerProcess, status: ExitStatus) {
    guard var container = containers[id], container.process === process else { return }
    let forced = container.forcedExit
    container.process = nil
    container.hung = false
    container.exitCode = forced?.code ?? status.code
    container.oomKilled = forced?.oom ?? false
    container.finishedAt = Date()
    let restarts = !shuttingDown && container.restartsAfterExit(code: container.exitCode)
    container.forcedExit = nil
    if restarts {
      restartTokens += 1
      let token = restartTokens
      container.status = .restarting
      container.restartTask = Task { [restartDelay] in
        do { try await Task.sleep(for: restartDelay) } catch { return }
        self.restartByPolicy(id: id, token: token)
      }
      container.restartToken = token
    } else {
      container.status = .exited
    }
    containers[id] = container
    logger.info(
      "container exited",
      metadata: [
        "container": "\(container.name)", "exit_code": "\(container.exitCode)", "restarting": "\(restarts)",
      ])
    Task { await process.join() }
  }

  private func restartByPolicy(id: String, token: Int) {
    guard let container = containers[id], container.status == .restarting, container.restartToken == token,
      !shuttingDown
    else { return }
    containers[id]?.restartTask = nil
    containers[id]?.restartCount += 1
    do {
      try launch(id)
    } catch {
      containers[id]?.status = .exited
      logger.warning("restart failed", metadata: ["container": "\(container.name)", "error": "\(error.message)"])
    }
  }

  /// SIGTERM (and SIGCONT, which a hung process needs to act on it), then SIGKILL after `grace`.
  private static func terminate(_ process: ContainerProcess, grace: Duration) async -> ExitStatus {
    process.signal(SIGTERM)
    process.signal(SIGCONT)
    if let status = await process.exit.wait(upTo: grace) { return status }
    process.signal(SIGKILL)
    return await process.exit.wait()
  }

  /// `devlikeapro/waha-plus` of `devlikeapro/waha-plus:latest` or `…@sha256:…`.
  /// `POST /images/create?fromImage=`: the image is on this host from now on, if the registry has it.
  func pull(_ image: String) throws(EngineError) {
    let repository = Self.repository(image)
    if let images, !images.contains(repository) {
      throw EngineError(
        status: .notFound,
        message: "pull access denied for \(repository), repository does not exist or may require 'docker login'")
    }
    pulled?.insert(repository)
    logger.info("image pulled", metadata: ["image": "\(image)"])
  }

  private static func repository(_ image: String) -> String {
    var name = Substring(image)
    if let at = name.firstIndex(of: "@") { name = name[..<at] }
    if let colon = name.lastIndex(of: ":"), !name[colon...].contains("/") { name = name[..<colon] }
    return String(name)
  }
}
