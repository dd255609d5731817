import Foundation
import Wire

/// `POST /containers/create`'s body, read field by field with Docker's 400s for what it refuses.
struct CreateRequest: Sendable {
  struct PortBinding: Sendable, Equatable {
    var hostIP: String
    var hostPort: Int?
  }

  var image: String
  /// `K=V` as given, in order.
  var env: [String]
  var labels: [String: String]
  var exposedPorts: [String]
  /// By container port (`3000/tcp`).
  var portBindings: [String: [PortBinding]]
  var restartPolicy: String
  var maximumRetryCount: Int
  var memory: Int
  var nanoCPUs: Int
  var binds: [String]

  static let restartPolicies: Set<String> = ["", "no", "always", "unless-stopped", "on-failure"]

  init(_ body: JSONValue) throws(EngineError) {
    guard let image = body["Image"]?.string, !image.isEmpty else {
      throw .badParameter("invalid reference format: repository name must have at least one component")
    }
    self.image = image
    env = try Self.strings(body["Env"], "Env")
    for item in env where !item.contains("=") || item.hasPrefix("=") {
      // Docker quotes the variable; only its name, so a value never reaches a log.
      throw .badParameter("invalid environment variable: \(item.split(separator: "=").first ?? "")")
    }
    labels = [:]
    if case .object(let fields)? = body["Labels"] {
      for (key, value) in fields {
        guard let text = value.string else { throw .badParameter("json: cannot unmarshal Labels.\(key) into a string") }
        labels[key] = text
      }
    }
    if case .object(let fields)? = body["ExposedPorts"] {
      exposedPorts = fields.keys.sorted()
    } else {
      exposedPorts = []
    }
    let host = body["HostConfig"] ?? [:]
    portBindings = [:]
    if case .object(let fields)? = host["PortBindings"] {
      for (port, list) in fields {
        portBindings[port] = try (list.array ?? []).map { binding throws(EngineError) in
          let text = binding["HostPort"]?.string ?? ""
          guard text.isEmpty || (Int(text).map { (0...65535).contains($0) } ?? false) else {
            throw .badParameter("invalid port specification: \"\(text)\"")
          }
          return PortBinding(
            hostIP: binding["HostIp"]?.string ?? "", hostPort: Int(text).flatMap { $0 == 0 ? nil : $0 })
        }
      }
    }
    restartPolicy = host["RestartPolicy"]?["Name"]?.string ?? ""
    guard Self.restartPolicies.contains(restartPolicy) else {
      throw .badParameter(
        "invalid restart policy: unknown policy '\(restartPolicy)'; use one of 'no', 'always', 'on-failure' or 'unless-stopped'"
      )
    }
    maximumRetryCount = Int(host["RestartPolicy"]?["MaximumRetryCount"]?.number ?? 0)
    memory = Int(host["Memory"]?.number ?? 0)
    nanoCPUs = Int(host["NanoCpus"]?.number ?? 0)
    if memory != 0 && memory < 6 * 1024 * 1024 {
      throw .badParameter("Minimum memory limit allowed is 6MB")
    }
    if nanoCPUs < 0 || nanoCPUs > ProcessInfo.processInfo.activeProcessorCount * 1_000_000_000 {
      throw .badParameter(
        "Range of CPUs is from 0.01 to \(ProcessInfo.processInfo.activeProcessorCount).00, as there are only \(ProcessInfo.processInfo.activeProcessorCount) CPUs available"
      )
    }
    binds = try Self.strings(host["Binds"], "HostConfig.Binds")
  }

  /// The environment as a dictionary (a repeated name keeps its last value).
  var environment: [String: String] {
    var values: [String: String] = [:]
    for item in env {
      let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      values[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
    }
    return values
  }

  private static func strings(_ value: JSONValue?, _ field: String) throws(EngineError) -> [String] {
    guard let value, value != .null else { return [] }
    guard let items = value.array else { throw .badParameter("json: cannot unmarshal \(value.kind) into \(field)") }
    var strings: [String] = []
    for item in items {
      guard let text = item.string else { throw .badParameter("json: cannot unmarshal \(item.kind) into \(field)") }
      strings.append(text)
    }
    return strings
  }
}
