import Docker
import DockerSimulator
import Foundation
import Logging
import OutboundHTTP
import ServiceLifecycle
import TestSupport

/// The Docker simulator inside the test process, on a temporary unix socket or on a TCP port of the
/// kernel's choosing, with a DockerClient pointed at it. Containers run `script` under /bin/sh, so
/// no whago binary and no free port is needed. Stopping it stops every container's process.
final class DockerSim: Sendable {
  /// What the test containers run. Their Env picks a behaviour: MODE=crash exits 3 at once,
  /// MODE=stubborn ignores SIGTERM (only SIGKILL stops it); otherwise it runs until SIGTERM, on
  /// which it says so and exits 0. Each prints a line to each stream once its trap is set, so a
  /// test that has seen both lines knows how a signal will be taken.
  static let script = """
    case "$MODE" in
      stubborn) trap '' TERM ;;
      *) trap 'echo stopping; exit 0' TERM ;;
    esac
    echo "started $CONTAINER_NAME on port $PORT"
    echo "warming up" >&2
    case "$MODE" in
      crash) exit 3 ;;
      stubborn) exec sleep 1000 ;;
    esac
    sleep 1000 &
    wait
    """

  let address: DockerSimServer.Address
  let client: DockerClient
  let http: HTTPClient
  private let group: ServiceGroup
  private let server: Task<Void, any Error>

  private init(
    address: DockerSimServer.Address, client: DockerClient, http: HTTPClient, group: ServiceGroup,
    server: Task<Void, any Error>
  ) {
    self.address = address
    self.client = client
    self.http = http
    self.group = group
    self.server = server
  }

  static func start(tcp: Bool = false, restartDelay: Duration = .seconds(1)) async throws -> DockerSim {
    var logger = Logger(label: "docker-sim-test")
    logger.logLevel = .critical
    let requested: DockerSimServer.Address =
      tcp
      ? .tcp(host: "127.0.0.1", port: 0)
      : .unixSocket(path: NSTemporaryDirectory() + "whago-docker-\(UUID().uuidString.prefix(8)).sock")
    var configuration = DockerSimServer.Configuration(address: requested, command: .shell(script))
    configuration.restartDelay = restartDelay
    let (addresses, announce) = AsyncStream<DockerSimServer.Address>.makeStream()
    let services = DockerSimServer.services(configuration, logger: logger) { bound in
      announce.yield(bound)
      announce.finish()
    }
    let group = ServiceGroup(configuration: .init(services: services, logger: logger))
    let server = Task {
      defer { announce.finish() }
      try await group.run()
    }
    var bound: DockerSimServer.Address?
    for await address in addresses { bound = address }
    guard let bound else {
      throw TestSetupError("the Docker simulator did not start: \(await server.result)")
    }
    let endpoint: DockerEndpoint =
      switch bound {
      case .unixSocket(let path): .unixSocket(path: path)
      case .tcp(let host, let port): .tcp(baseURL: "http://\(host):\(port)")
      }
    let http = HTTPClient()
    return DockerSim(
      address: bound, client: DockerClient(endpoint: endpoint, http: http, timeout: .seconds(15)), http: http,
      group: group, server: server)
  }

  /// Shuts the simulator down (which kills every container's process) and closes the client.
  func stop() async {
    await group.triggerGracefulShutdown()
    _ = await server.result
    await http.shutdown()
  }

  /// A `/_sim` fault control, through the same socket or port.
  @discardableResult
  func control(_ path: String, _ body: String = "{}") async throws -> OutboundResponse {
    var request = OutboundRequest(
      method: "POST", url: base + path, headers: [("Content-Type", "application/json")], body: Array(body.utf8))
    if case .unixSocket(let socket) = address { request.unixSocketPath = socket }
    return try await http.send(request)
  }

  private var base: String {
    switch address {
    case .unixSocket: "http://localhost"
    case .tcp(let host, let port): "http://\(host):\(port)"
    }
  }
}

/// Runs `body` against a fresh simulator and always stops it, so no test leaves a child behind.
func withDockerSim(
  tcp: Bool = false, restartDelay: Duration = .seconds(1), _ body: (DockerSim) async throws -> Void
) async throws {
  let sim = try await DockerSim.start(tcp: tcp, restartDelay: restartDelay)
  do {
    try await body(sim)
  } catch {
    await sim.stop()
    throw error
  }
  await sim.stop()
}

/// Whether a process with `pid` still exists (a zombie counts: it has not been reaped).
func processExists(_ pid: Int) -> Bool {
  kill(pid_t(pid), 0) == 0 || errno != ESRCH
}
