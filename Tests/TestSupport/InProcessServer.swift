import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// A Hummingbird server inside the test process, on a port of the kernel's choosing (learnt when
/// the server is running, so no port is guessed free first). Stopped by a graceful shutdown:
/// cancelling a server with a request in flight traps in NIO's response writer.
public final class InProcessServer: Sendable {
  public let port: Int
  public var base: String { "http://127.0.0.1:\(port)" }
  private let group: ServiceGroup
  private let server: Task<Void, any Error>

  public init(router: Router<BasicRequestContext>, label: String) async throws {
    // Quiet: stopping the server at the end of a test is not worth a log line.
    var logger = Logger(label: label)
    logger.logLevel = .critical
    let (ports, announce) = AsyncStream<Int>.makeStream()
    let app = Application(
      router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
      onServerRunning: { channel in
        announce.yield(channel.localAddress?.port ?? 0)
        announce.finish()
      }, logger: logger)
    let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
    let server = Task {
      defer { announce.finish() }
      try await group.run()
    }
    var bound: Int?
    for await port in ports { bound = port }
    guard let bound, bound > 0 else {
      let failure = await server.result
      throw TestSetupError("the \(label) server did not start: \(failure)")
    }
    self.port = bound
    self.group = group
    self.server = server
  }

  public func stop() async {
    await group.triggerGracefulShutdown()
    _ = await server.result
  }
}
