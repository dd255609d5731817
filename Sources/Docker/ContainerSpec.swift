/// What a container is created from: the image, its environment and labels, the one port WAHA
/// serves (container 3000/tcp) published on a host port, the restart policy and the resource
/// limits. It exists so callers state a WAHA container in our terms and never assemble Docker's
/// create body (its capitalised keys, `Env` as `K=V` strings, port maps keyed by `3000/tcp`) by hand.
public struct ContainerSpec: Sendable, Equatable {
  public var image: String
  /// Sent as `K=V` strings. Holds secrets (WAHA's API key), so it is never logged, never returned
  /// by `inspect`, and blanked out of error messages.
  public var environment: [String: String]
  public var labels: [String: String]
  /// The container's port (WAHA serves 3000/tcp).
  public var containerPort: Int
  /// The host port it is published on; nil publishes nothing.
  public var hostPort: Int?
  /// The host address the port is bound to; nil: Docker's default (every address).
  public var hostIP: String?
  public var restartPolicy: RestartPolicy
  /// Memory limit in bytes; nil: unlimited.
  public var memoryBytes: Int?
  /// CPU limit in billionths of a CPU (1.5 CPUs is 1_500_000_000); nil: unlimited.
  public var nanoCPUs: Int?
  /// Bind mounts and named volumes, `source:/path[:ro]`.
  public var binds: [String]

  public init(
    image: String, environment: [String: String] = [:], labels: [String: String] = [:], containerPort: Int = 3000,
    hostPort: Int? = nil, hostIP: String? = nil, restartPolicy: RestartPolicy = .unlessStopped,
    memoryBytes: Int? = nil, nanoCPUs: Int? = nil, binds: [String] = []
  ) {
    self.image = image
    self.environment = environment
    self.labels = labels
    self.containerPort = containerPort
    self.hostPort = hostPort
    self.hostIP = hostIP
    self.restartPolicy = restartPolicy
    self.memoryBytes = memoryBytes
    self.nanoCPUs = nanoCPUs
    self.binds = binds
  }

  /// `3000/tcp`: how Docker names a container port.
  public var portKey: String { "\(containerPort)/tcp" }
}

/// Docker's restart policies: what the engine does when a container's process exits on its own.
/// A container stopped through the API is never restarted.
public struct RestartPolicy: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
  public let rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }

  /// Never restart.
  public static let no = RestartPolicy(rawValue: "no")
  /// Restart whatever the exit status.
  public static let always = RestartPolicy(rawValue: "always")
  /// As `always`, and also not after an engine restart if it had been stopped (WHAGO's choice).
  public static let unlessStopped = RestartPolicy(rawValue: "unless-stopped")
  /// Restart only after a non-zero exit.
  public static let onFailure = RestartPolicy(rawValue: "on-failure")

  public var description: String { rawValue }
}

/// `POST /containers/create`'s body, in Docker's spelling.
struct CreateContainerBody: Encodable {
  struct Empty: Encodable {}
  struct PortBinding: Encodable {
    var HostIp: String?
    var HostPort: String
  }
  struct Restart: Encodable {
    var Name: String
  }
  struct HostSettings: Encodable {
    var PortBindings: [String: [PortBinding]]?
    var RestartPolicy: Restart
    var Memory: Int?
    var NanoCpus: Int?
    var Binds: [String]?
  }

  var Image: String
  var Env: [String]
  var Labels: [String: String]
  var ExposedPorts: [String: Empty]
  var HostConfig: HostSettings

  init(_ spec: ContainerSpec) {
    Image = spec.image
    Env = spec.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    Labels = spec.labels
    ExposedPorts = [spec.portKey: Empty()]
    HostConfig = HostSettings(
      PortBindings: spec.hostPort.map { [spec.portKey: [PortBinding(HostIp: spec.hostIP, HostPort: String($0))]] },
      RestartPolicy: Restart(Name: spec.restartPolicy.rawValue), Memory: spec.memoryBytes,
      NanoCpus: spec.nanoCPUs, Binds: spec.binds.isEmpty ? nil : spec.binds)
  }
}

/// `POST /containers/create`'s answer.
struct CreateContainerAnswer: Decodable {
  var Id: String
}
