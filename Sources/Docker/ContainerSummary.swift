import Foundation

/// One container in `list`: enough for the admin's table (name, tenant label, state, uptime text)
/// without inspecting each one. Names lose Docker's leading slash.
public struct ContainerSummary: Sendable, Equatable, Decodable {
  public var id: String
  /// `waha_plus_user_…`, without Docker's leading `/`.
  public var names: [String]
  public var labels: [String: String]
  public var state: ContainerStatus
  /// Docker's human text: `Up 5 minutes`, `Exited (137) 2 hours ago`.
  public var status: String
  public var created: Date

  enum CodingKeys: String, CodingKey {
    case id = "Id"
    case names = "Names"
    case labels = "Labels"
    case state = "State"
    case status = "Status"
    case created = "Created"
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    id = try container.decode(String.self, forKey: .id)
    names = (try container.decodeIfPresent([String].self, forKey: .names) ?? []).map(Self.bare)
    labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
    state = try container.decode(ContainerStatus.self, forKey: .state)
    status = try container.decodeIfPresent(String.self, forKey: .status) ?? ""
    created = Date(timeIntervalSince1970: TimeInterval(try container.decode(Int64.self, forKey: .created)))
  }

  static func bare(_ name: String) -> String {
    name.hasPrefix("/") ? String(name.dropFirst()) : name
  }
}
