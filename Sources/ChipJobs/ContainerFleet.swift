import Docker
import Foundation
import Logging
import OutboundHTTP
import Store
import WAHA

/// Creates, starts and checks tenants' WAHA containers through the Docker Engine API. Every call
/// asks Docker before it acts, so a step repeated after a crash (or by two workers at once) finds
/// what the first made: Docker refuses a second container with the same name, and whago's port
/// reservation in PostgreSQL keeps two tenants off one port.
public struct ContainerFleet: Sendable {
  public let store: Store
  public let docker: DockerClient
  /// For the containers' own WAHA: whago's containers, not a tenant's address, so no address policy.
  public let http: HTTPClient
  public let settings: ChipConnectionSettings

  public init(store: Store, docker: DockerClient, http: HTTPClient, settings: ChipConnectionSettings) {
    self.store = store
    self.docker = docker
    self.http = http
    self.settings = settings
  }

  /// Labels that say whose container it is; the monitor finds orphans by them.
  public static let managedLabel = "com.whago.managed"
  public static let tenantLabel = "com.whago.tenant"
  public static let tenantIDLabel = "com.whago.tenant_id"

  func spec(_ container: WAHAContainer) -> ContainerSpec {
    ContainerSpec(
      image: settings.image,
      environment: [
        "WAHA_API_KEY": container.apiKey, "WHATSAPP_DEFAULT_ENGINE": "NOWEB", "WAHA_PRINT_QR": "false",
        "WHATSAPP_HOOK_EVENTS": WAHAWebhookKey.events.joined(separator: ","),
      ],
      labels: [
        Self.managedLabel: "true", Self.tenantLabel: container.tenantName,
        Self.tenantIDLabel: "\(container.tenantId.rawValue)",
      ],
      containerPort: 3000, hostPort: container.hostPort, hostIP: Self.bindAddress(settings.containers.wahaHost),
      restartPolicy: .unlessStopped, memoryBytes: settings.memoryBytes, nanoCPUs: settings.nanoCPUs)
  }

  /// The address the port is published on: the one workers reach it at when that is an IP (a
  /// loopback address keeps WAHA off the network); a host name (a compose service) publishes on
  /// every address, as Docker's default does.
  static func bindAddress(_ host: String) -> String? {
    host.allSatisfy { $0.isHexDigit || $0 == "." || $0 == ":" } && host.contains(where: { $0 == "." || $0 == ":" })
      ? host : nil
  }

  /// The tenant's container exists, runs and its WAHA answers. Returns Docker's id.
  @discardableResult
  public func ensure(_ container: WAHAContainer, logger: Logger) async throws -> String {
    let details = try await find(container.dockerId ?? container.name)
    let id: String
    if let details {
      id = details.id
    } else if let created = try await create(container) {
      id = created
      logger.info("container created", metadata: ["container": "\(container.name)", "port": "\(container.hostPort)"])
    } else {
      // Another run created it between our look and our create.
      id = try await docker.inspect(container.name).id
    }
    if container.dockerId != id { try await store.recordContainerDockerID(id: container.id, dockerID: id) }
    if details?.state.running != true {
      try await docker.start(id)
      logger.info("container started", metadata: ["container": "\(container.name)"])
    }
    try await waitUntilReady(container)
    return id
  }

  /// The container, or nil when Docker has none by that id or name.
  func find(_ reference: String) async throws(DockerError) -> ContainerDetails? {
    do {
      return try await docker.inspect(reference)
    } catch {
      if case .notFound = error { return nil }
      throw error
    }
  }

  /// Docker's id for a new container, or nil when the name was taken meanwhile. An image the
  /// host does not have yet (a new host) is pulled first.
  func create(_ container: WAHAContainer) async throws(DockerError) -> String? {
    // At most twice: once more after pulling an image the host did not have.
    for pulled in [false, true] {
      do {
        return try await docker.createContainer(name: container.name, spec: spec(container))
      } catch {
        switch error {
        case .conflict: return nil
        case .imageNotFound where !pulled: try await docker.pullImage(settings.image)
        default: throw error
        }
      }
    }
    return nil
  }

  /// Polls the container's WAHA until it answers, for at most `settings.readyTimeout`.
  func waitUntilReady(_ container: WAHAContainer) async throws {
    let waha = client(container, timeout: .seconds(3))
    let deadline = ContinuousClock.now + settings.readyTimeout
    var lastError = ""
    while ContinuousClock.now < deadline {
      do {
        try await waha.ping()
        return
      } catch {
        lastError = "\(error)"
      }
      try await Task.sleep(for: .milliseconds(250))
    }
    throw ContainerNotReady(
      name: container.name, seconds: Int(settings.readyTimeout.components.seconds), lastError: lastError)
  }

  public func client(_ container: WAHAContainer, timeout: Duration = .seconds(30)) -> WAHAClient {
    WAHAClient(
      baseURL: settings.containers.url(port: container.hostPort), apiKey: container.apiKey, http: http, timeout: timeout
    )
  }
}

struct ContainerNotReady: Error, CustomStringConvertible {
  let name: String
  let seconds: Int
  let lastError: String
  var description: String {
    "container \(name) started but its WAHA did not answer within \(seconds) s (\(lastError)); see `whago container logs`"
  }
}
