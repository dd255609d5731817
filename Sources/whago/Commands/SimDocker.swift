import ArgumentParser
import DockerSimulator
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// `whago sim docker`: the Docker Engine API subset WHAGO uses, each container a real process.
struct SimDocker: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "docker",
    abstract: "Simulate the Docker Engine API for WAHA containers: each started container runs `whago sim waha`.",
    discussion: """
      Docker Engine API v1.45 (also under any /v1.NN/ prefix, and with none), on a unix socket \
      (--socket, as /var/run/docker.sock) or on TCP (--host/--port); point WHAGO_DOCKER_HOST at it \
      (unix:///path or tcp://host:port). Errors are Docker's {"message": ...} with Docker's wording.

      Routes: GET /_ping (OK), GET /version; POST /containers/create?name=N {Image, Env ["K=V"], \
      Labels, ExposedPorts, HostConfig {PortBindings {"3000/tcp": [{"HostPort": "3100"}]}, \
      RestartPolicy {Name}, Memory, NanoCpus, Binds}} answers 201 {Id (64 hex), Warnings}; 409 when the \
      name is in use; 404 "No such image" unless the image is one of --images (tags ignored). \
      POST /containers/{id}/start 204 (304 when running; 500 "port is already allocated" when a \
      running container holds the host port); /stop?t=S 204 (304 when not running): SIGTERM, then \
      SIGKILL after t seconds; /restart?t=S 204; DELETE /containers/{id}?force=true 204 (409 for a \
      running one without force). GET /containers/json?all=true&filters={"label":["k=v"]} (also name, \
      id, status filters); GET /containers/{id}/json (State with Pid, ExitCode, StartedAt, FinishedAt, \
      OOMKilled; RestartCount; NetworkSettings.Ports); GET /containers/{id}/stats?stream=false \
      (cpu_stats, precpu_stats, memory_stats with stats.inactive_file; the child's real CPU time and \
      resident memory); GET /containers/{id}/logs?stdout=1&stderr=1&tail=N&timestamps=1 (the child's \
      real output, multiplexed in 8-byte-header frames; no follow). An id, a unique id prefix or a \
      name is accepted wherever {id} is; an unknown one answers 404.

      Containers: start spawns the --waha-command for the container; by default this executable's \
      `sim waha --port <HostPort> --require-scan --sessions ""` (plus --webhook-url from the \
      container's WHATSAPP_HOOK_URL), with the container's Env and its WAHA_API_KEY as \
      WHAGO_SIM_API_KEY. A process that exits by itself leaves the container exited with its status \
      (128 + signal when killed); with restart policy always or unless-stopped (on-failure: after a \
      non-zero exit) it is restarting for --restart-delay, then running with a new process and \
      RestartCount + 1, unless it was stopped through the API. Every child is in its own process \
      group and is killed (SIGTERM, SIGKILL after 5 s) when its container stops or is removed and when \
      the simulator exits (SIGTERM, SIGINT).

      Faults, for tests and the demo (not part of Docker's API): POST /_sim/containers/{id}/exit \
      {"code":137, "restart":true, "oom":false} kills the process and reports that exit code \
      (the restart policy applies unless "restart" is false); POST /_sim/containers/{id}/hang \
      SIGSTOPs it (it stops answering; stats and inspect still show it running), .../resume SIGCONTs \
      it; POST /_sim/containers/{id}/cpu {"percent":90} and .../memory {"percent":95} make stats \
      report that use ({"percent":null}: the real reading again); GET /_sim/containers lists every \
      container in the inspect shape, environment included, with the simulator's own state.
      """)

  @Option(help: "Listen on this unix socket (a stale socket file is replaced) instead of TCP.")
  var socket: String?

  @Option(help: "Address to bind without --socket. Env: WHAGO_HOST.")
  var host: String = ProcessInfo.processInfo.environment["WHAGO_HOST"] ?? "127.0.0.1"

  @Option(
    help:
      "Port to listen on without --socket (Docker's plain TCP port is 2375; 0: any free one, named in the log line 'listening on')."
  )
  var port: Int = 2375

  @Option(
    help: ArgumentHelp(
      "Shell command each container runs instead of `whago sim waha` (run with /bin/sh -c).",
      discussion: "It gets the container's Env plus PORT (its host port), CONTAINER_NAME and CONTAINER_ID."))
  var wahaCommand: String?

  @Option(help: "Image repositories create accepts, comma-separated ('*': any image).")
  var images: String = "devlikeapro/waha-plus,devlikeapro/waha"

  @Flag(help: "Images must be pulled (POST /images/create) before create finds them, as on a new host.")
  var requirePull = false

  @Option(help: "How long a container whose process exited waits before its restart policy starts it again.")
  var restartDelay: String = "1s"

  @Option(help: "Log level: trace, debug, info, notice, warning, error. Env: WHAGO_LOG_LEVEL.")
  var logLevel: String = ProcessInfo.processInfo.environment["WHAGO_LOG_LEVEL"] ?? "info"

  func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535 (0: any free port)") }
    if let socket, !socket.hasPrefix("/") { throw ValidationError("--socket must be an absolute path") }
    if let wahaCommand, wahaCommand.trimmingCharacters(in: .whitespaces).isEmpty {
      throw ValidationError("--waha-command must not be empty")
    }
    _ = try SimOptions.duration(restartDelay, "--restart-delay")
  }

  func run() async throws {
    var logger = Logger(label: "whago.sim.docker")
    logger.logLevel = Logger.Level(rawValue: logLevel.lowercased()) ?? .info
    let address: DockerSimServer.Address =
      socket.map { .unixSocket(path: $0) } ?? .tcp(host: host, port: port)
    // Qualified: `ContainerCommand` is also the CLI's `whago container`.
    let command: DockerSimulator.ContainerCommand =
      wahaCommand.map { .shell($0) } ?? .wahaSimulator(executable: Self.executable())
    var configuration = DockerSimServer.Configuration(address: address, command: command)
    let imageList = images.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    configuration.images = imageList.contains("*") ? nil : imageList
    configuration.requirePull = requirePull
    configuration.restartDelay = try SimOptions.duration(restartDelay, "--restart-delay")

    let metadata: Logger.Metadata = [
      "command": "\(wahaCommand == nil ? "whago sim waha" : "custom")",
      "images": "\(configuration.images?.joined(separator: ",") ?? "any")",
    ]
    let services = DockerSimServer.services(configuration, logger: logger) { [logger] bound in
      logger.notice("Docker simulator listening on \(bound)", metadata: metadata)
    }
    let group = ServiceGroup(
      configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
  }

  /// This very executable, for the containers' `whago sim waha`.
  private static func executable() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
  }
}
