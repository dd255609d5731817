/// A container's state as Docker names it (`State` in a listing, `State.Status` in an inspect).
/// A struct rather than an enum so a state a newer engine adds still decodes.
public struct ContainerStatus: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
  public let rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }

  public init(from decoder: any Decoder) throws {
    rawValue = try decoder.singleValueContainer().decode(String.self)
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(rawValue)
  }

  public static let created = ContainerStatus(rawValue: "created")
  public static let running = ContainerStatus(rawValue: "running")
  public static let paused = ContainerStatus(rawValue: "paused")
  /// Waiting to be restarted by its restart policy after its process exited.
  public static let restarting = ContainerStatus(rawValue: "restarting")
  public static let removing = ContainerStatus(rawValue: "removing")
  public static let exited = ContainerStatus(rawValue: "exited")
  public static let dead = ContainerStatus(rawValue: "dead")

  public var description: String { rawValue }
}
