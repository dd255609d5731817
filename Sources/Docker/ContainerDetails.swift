import Foundation

/// One container inspected: its state (with the process id, exit code and OOM flag a health check
/// needs), labels, restart policy and the host port WAHA answers on. The container's environment
/// is deliberately not read: it holds WAHA's API key, and nothing here needs it.
public struct ContainerDetails: Sendable, Equatable, Decodable {
  /// `State` of an inspect: what a health check reads to tell a crash (exit code, OOM) from a stop.
  public struct State: Sendable, Equatable, Decodable {
    public var status: ContainerStatus
    public var running: Bool
    /// The main process's id on the host; 0 when not running.
    public var pid: Int
    public var startedAt: Date?
    public var finishedAt: Date?
    public var exitCode: Int
    public var oomKilled: Bool
    /// Why the last start failed, if it did.
    public var error: String?

    enum CodingKeys: String, CodingKey {
      case status = "Status"
      case running = "Running"
      case pid = "Pid"
      case startedAt = "StartedAt"
      case finishedAt = "FinishedAt"
      case exitCode = "ExitCode"
      case oomKilled = "OOMKilled"
      case error = "Error"
    }

    public init(from decoder: any Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      status = try container.decode(ContainerStatus.self, forKey: .status)
      running = try container.decodeIfPresent(Bool.self, forKey: .running) ?? false
      pid = try container.decodeIfPresent(Int.self, forKey: .pid) ?? 0
      startedAt = DockerTime.parse(try container.decodeIfPresent(String.self, forKey: .startedAt))
      finishedAt = DockerTime.parse(try container.decodeIfPresent(String.self, forKey: .finishedAt))
      exitCode = try container.decodeIfPresent(Int.self, forKey: .exitCode) ?? 0
      oomKilled = try container.decodeIfPresent(Bool.self, forKey: .oomKilled) ?? false
      let error = try container.decodeIfPresent(String.self, forKey: .error)
      self.error = error?.isEmpty == false ? error : nil
    }
  }

  public var id: String
  /// Without Docker's leading `/`.
  public var name: String
  public var image: String
  public var state: State
  /// How many times the restart policy restarted it.
  public var restartCount: Int
  public var labels: [String: String]
  public var restartPolicy: RestartPolicy?
  /// The host port container port 3000/tcp is published on: the live binding while it runs,
  /// else the configured one; nil when it publishes none.
  public var hostPort: Int?

  private struct PortBinding: Decodable {
    var HostPort: String?
  }
  private struct Config: Decodable {
    var Image: String?
    var Labels: [String: String]?
  }
  private struct HostConfig: Decodable {
    struct Restart: Decodable { var Name: String? }
    var PortBindings: [String: [PortBinding]?]?
    var RestartPolicy: Restart?
  }
  private struct NetworkSettings: Decodable {
    var Ports: [String: [PortBinding]?]?
  }

  enum CodingKeys: String, CodingKey {
    case id = "Id"
    case name = "Name"
    case image = "Image"
    case state = "State"
    case restartCount = "RestartCount"
    case config = "Config"
    case hostConfig = "HostConfig"
    case networkSettings = "NetworkSettings"
  }

  /// The port WAHA serves inside its container.
  static let wahaPort = "3000/tcp"

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    id = try container.decode(String.self, forKey: .id)
    name = ContainerSummary.bare(try container.decodeIfPresent(String.self, forKey: .name) ?? "")
    state = try container.decode(State.self, forKey: .state)
    restartCount = try container.decodeIfPresent(Int.self, forKey: .restartCount) ?? 0
    let config = try container.decodeIfPresent(Config.self, forKey: .config)
    let hostConfig = try container.decodeIfPresent(HostConfig.self, forKey: .hostConfig)
    let network = try container.decodeIfPresent(NetworkSettings.self, forKey: .networkSettings)
    // `Image` at the top level is the image's id (sha256:…); the name asked for is in Config.
    let imageID = try container.decodeIfPresent(String.self, forKey: .image)
    image = config?.Image ?? imageID ?? ""
    labels = config?.Labels ?? [:]
    restartPolicy = (hostConfig?.RestartPolicy?.Name).flatMap { $0.isEmpty ? nil : RestartPolicy(rawValue: $0) }
    let live = network?.Ports?[Self.wahaPort]??.first?.HostPort
    let configured = hostConfig?.PortBindings?[Self.wahaPort]??.first?.HostPort
    hostPort = (live ?? configured).flatMap { Int($0) }
  }
}
