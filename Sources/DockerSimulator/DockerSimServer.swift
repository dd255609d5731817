import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `whago sim docker`: the Docker Engine API subset WHAGO uses, simulated, so the container
/// management and the demo run where no Docker engine does. Each container's process is real
/// (by default `whago sim waha` on the container's host port), so a started WAHA container answers
/// WAHA's API, and a crash, a hang or a stop is a real process crashing, hanging or stopping.
public enum DockerSimServer {
  /// Where the simulator listens.
  public enum Address: Sendable, Equatable, CustomStringConvertible {
    /// A unix domain socket, as Docker's `/var/run/docker.sock` (a stale socket file is replaced).
    case unixSocket(path: String)
    /// Plain HTTP on `host:port`; port 0: any free port (the bound one is announced).
    case tcp(host: String, port: Int)

    /// `unix:///path` or `http://host:port`: the value for `WHAGO_DOCKER_HOST`.
    public var description: String {
      switch self {
      case .unixSocket(let path): "unix://\(path)"
      case .tcp(let host, let port): "http://\(host):\(port)"
      }
    }
  }

  /// Where to listen, what each container runs, which images exist, how fast policies restart:
  /// what `whago sim docker`'s flags set and what tests choose for themselves.
  public struct Configuration: Sendable {
    public var address: Address
    /// What each container runs.
    public var command: ContainerCommand
    /// Image repositories `create` accepts (tags ignored); nil: any image.
    public var images: [String]? = ["devlikeapro/waha-plus", "devlikeapro/waha"]
    /// Images must be pulled (`POST /images/create`) before `create` finds them, as on a new host.
    public var requirePull = false
    /// How long a container waits in `restarting` before its policy starts it again.
    public var restartDelay: Duration = .seconds(1)

    public init(address: Address, command: ContainerCommand) {
      self.address = address
      self.command = command
    }
  }

  /// The HTTP server and the service that stops every container at shutdown, to run in one
  /// service group (the server stops first). `onListening` is told the address bound (for TCP
  /// port 0, the kernel's choice).
  public static func services(
    _ configuration: Configuration, logger: Logger,
    onListening: @escaping @Sendable (_ address: Address) async -> Void = { _ in }
  ) -> [any Service] {
    let engine = Engine(
      command: configuration.command, images: configuration.images, requirePull: configuration.requirePull,
      restartDelay: configuration.restartDelay,
      logger: logger)
    let router = Router()
    EngineRoutes(engine: engine).register(on: router)
    FaultRoutes(engine: engine).register(on: router)

    let bind: BindAddress
    switch configuration.address {
    case .unixSocket(let path):
      removeStaleSocket(path)
      bind = .unixDomainSocket(path: path)
    case .tcp(let host, let port):
      bind = .hostname(host, port: port)
    }
    let app = Application(
      responder: APIVersionPrefix(inner: router.buildResponder()),
      configuration: .init(address: bind, serverName: "docker-sim"),
      onServerRunning: { channel in
        switch configuration.address {
        case .unixSocket: await onListening(configuration.address)
        case .tcp(let host, let port): await onListening(.tcp(host: host, port: channel.localAddress?.port ?? port))
        }
      },
      logger: logger)
    return [ContainerReaper(engine: engine, address: configuration.address), app]
  }

  /// A socket file left by a simulator that did not shut down cleanly would make the bind fail.
  /// Only a socket is removed, never a regular file that happens to be named so.
  private static func removeStaleSocket(_ path: String) {
    var info = stat()
    if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK { unlink(path) }
  }
}

/// Waits for shutdown, then stops every container and waits for its process to be gone, so the
/// simulator never leaves a child behind; it also removes its socket file.
struct ContainerReaper: Service {
  let engine: Engine
  let address: DockerSimServer.Address

  func run() async throws {
    // Returns at graceful shutdown; throws when cancelled. Either way the children go.
    try? await gracefulShutdown()
    await engine.shutdown()
    if case .unixSocket(let path) = address { unlink(path) }
  }
}
