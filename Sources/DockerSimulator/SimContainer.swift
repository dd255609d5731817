import Foundation
import Wire

/// A simulated container: what it was created with, where it is in its life, and the faults a test
/// has set on it. Renders itself the way `GET /containers/json` and `/containers/{id}/json` do.
struct SimContainer: Sendable {
  enum Status: String, Sendable {
    case created, running, restarting, exited
  }

  /// What a `/_sim/containers/{id}/exit` asked for, applied when the killed process is seen to exit.
  struct ForcedExit: Sendable {
    var code: Int
    var restart: Bool
    var oom: Bool
  }

  let id: String
  let name: String
  let spec: CreateRequest
  let created: Date
  let output = OutputLog()
  var status = Status.created
  var process: ContainerProcess?
  var startedAt: Date?
  var finishedAt: Date?
  var exitCode = 0
  var oomKilled = false
  var error = ""
  var restartCount = 0
  /// Stopped (or killed) through the API: its restart policy does not bring it back.
  var stoppedByAPI = false
  var forcedExit: ForcedExit?
  /// The pending restart by policy, cancelled by a stop, a start or a removal.
  var restartTask: Task<Void, Never>?
  /// Which scheduled restart is current: a late one of an earlier exit does nothing.
  var restartToken = 0
  /// SIGSTOPped by `/_sim/.../hang`.
  var hung = false
  var cpuPercent: Double?
  var memoryPercent: Double?
  var usage = UsageSampler()

  init(id: String, name: String, spec: CreateRequest, created: Date = Date()) {
    self.id = id
    self.name = name
    self.spec = spec
    self.created = created
  }

  var pid: Int { process.map { Int($0.pid) } ?? 0 }

  /// The binding of the first exposed port that has one (WAHA's 3000/tcp).
  var binding: (port: String, hostIP: String, hostPort: Int)? {
    for port in (["3000/tcp"] + spec.exposedPorts + spec.portBindings.keys.sorted()) {
      if let first = spec.portBindings[port]?.first, let hostPort = first.hostPort {
        return (port, first.hostIP, hostPort)
      }
    }
    return nil
  }

  /// Whether the policy restarts it after an exit with `code` it did not ask for.
  func restartsAfterExit(code: Int) -> Bool {
    if stoppedByAPI || forcedExit?.restart == false { return false }
    switch spec.restartPolicy {
    case "always", "unless-stopped": return true
    case "on-failure": return code != 0 && (spec.maximumRetryCount == 0 || restartCount < spec.maximumRetryCount)
    default: return false
    }
  }

  // MARK: Docker's shapes

  /// Docker's `Status` text in a listing.
  func statusText(now: Date = Date()) -> String {
    switch status {
    case .created: return "Created"
    case .running:
      return "Up \(DockerText.humanDuration(now.timeIntervalSince(startedAt ?? now)))" + (hung ? " (unhealthy)" : "")
    case .restarting:
      return "Restarting (\(exitCode)) \(DockerText.humanDuration(now.timeIntervalSince(finishedAt ?? now))) ago"
    case .exited:
      return "Exited (\(exitCode)) \(DockerText.humanDuration(now.timeIntervalSince(finishedAt ?? now))) ago"
    }
  }

  var imageID: String { "sha256:" + SimIDs.digest(spec.image) }

  /// One entry of `GET /containers/json`.
  var summary: JSONValue {
    var ports: [JSONValue] = []
    for port in spec.exposedPorts {
      let parts = port.split(separator: "/")
      let privatePort = JSONValue(Int(parts.first ?? "") ?? 0)
      let type = JSONValue(parts.count > 1 ? String(parts[1]) : "tcp")
      if status == .running, let bound = spec.portBindings[port]?.first, let hostPort = bound.hostPort {
        ports.append([
          "IP": JSONValue(bound.hostIP.isEmpty ? "0.0.0.0" : bound.hostIP), "PrivatePort": privatePort,
          "PublicPort": JSONValue(hostPort), "Type": type,
        ])
      } else {
        ports.append(["PrivatePort": privatePort, "Type": type])
      }
    }
    return [
      "Id": JSONValue(id), "Names": [JSONValue("/" + name)], "Image": JSONValue(spec.image),
      "ImageID": JSONValue(imageID), "Command": JSONValue("/entrypoint.sh"),
      "Created": .int(Int64(created.timeIntervalSince1970)), "Ports": .array(ports),
      "Labels": .object(spec.labels.mapValues { JSONValue($0) }), "State": JSONValue(status.rawValue),
      "Status": JSONValue(statusText()), "HostConfig": ["NetworkMode": "bridge"], "Mounts": [],
    ]
  }

  /// `GET /containers/{id}/json`.
  var details: JSONValue {
    var bindings: [String: JSONValue] = [:]
    for (port, list) in spec.portBindings {
      bindings[port] = .array(
        list.map { ["HostIp": JSONValue($0.hostIP), "HostPort": JSONValue($0.hostPort.map(String.init) ?? "")] })
    }
    var live: [String: JSONValue] = [:]
    if status == .running {
      for port in spec.exposedPorts {
        let bound = spec.portBindings[port]?.compactMap { binding -> JSONValue? in
          guard let hostPort = binding.hostPort else { return nil }
          return [
            "HostIp": JSONValue(binding.hostIP.isEmpty ? "0.0.0.0" : binding.hostIP),
            "HostPort": JSONValue(String(hostPort)),
          ]
        }
        live[port] = bound.map { .array($0) } ?? .null
      }
    }
    let state: JSONValue = [
      "Status": JSONValue(status.rawValue), "Running": JSONValue(status == .running), "Paused": false,
      "Restarting": JSONValue(status == .restarting), "OOMKilled": JSONValue(oomKilled), "Dead": false,
      "Pid": JSONValue(pid), "ExitCode": JSONValue(exitCode), "Error": JSONValue(error),
      "StartedAt": JSONValue(DockerText.timestamp(startedAt)),
      "FinishedAt": JSONValue(DockerText.timestamp(finishedAt)),
    ]
    return [
      "Id": JSONValue(id), "Created": JSONValue(DockerText.timestamp(created)), "Path": "/entrypoint.sh", "Args": [],
      "State": state, "Image": JSONValue(imageID), "Name": JSONValue("/" + name),
      "RestartCount": JSONValue(restartCount), "Driver": "overlay2", "Platform": "linux",
      "HostConfig": [
        "PortBindings": .object(bindings), "Binds": .array(spec.binds.map { JSONValue($0) }),
        "RestartPolicy": [
          "Name": JSONValue(spec.restartPolicy), "MaximumRetryCount": JSONValue(spec.maximumRetryCount),
        ],
        "Memory": JSONValue(spec.memory), "NanoCpus": JSONValue(spec.nanoCPUs), "NetworkMode": "bridge",
      ],
      "Config": [
        "Hostname": JSONValue(String(id.prefix(12))), "Image": JSONValue(spec.image),
        "Env": .array(spec.env.map { JSONValue($0) }), "Labels": .object(spec.labels.mapValues { JSONValue($0) }),
        "ExposedPorts": .object(Dictionary(uniqueKeysWithValues: spec.exposedPorts.map { ($0, [:]) })),
      ],
      "NetworkSettings": ["Ports": .object(live)],
      "Mounts": [],
    ]
  }

  /// Everything, for `GET /_sim/containers`: Docker's shape plus what only the simulator knows.
  var everything: JSONValue {
    guard case .object(var fields) = details else { return details }
    fields["Sim"] = [
      "Hung": JSONValue(hung), "StoppedByAPI": JSONValue(stoppedByAPI),
      "CPUPercent": cpuPercent.map { .double($0) } ?? .null,
      "MemoryPercent": memoryPercent.map { .double($0) } ?? .null,
      "LogLines": JSONValue(output.lines(stdout: true, stderr: true, tail: nil).count),
    ]
    return .object(fields)
  }
}
