import ArgumentParser
import ChipJobs
import Docker
import Foundation
import OutboundHTTP
import Store

/// `whago container`: the tenants' WAHA containers, for the operator on call: what runs where,
/// how loaded, what it logged, and the hands to start, stop, restart or remove one.
struct ContainerCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "container",
    abstract: "Inspect and manage the tenants' WAHA containers (Docker Engine API at WHAGO_DOCKER_HOST).",
    discussion: """
      Containers are named waha_plus_user_<tenant uuid>; NAME is that name or a Docker id (12 \
      characters or more). The fleet monitor (containers.monitor, every minute) samples them and \
      raises the alerts `whago container alerts` lists.
      """,
    subcommands: [
      List.self, Show.self, Start.self, Stop.self, Restart.self, Logs.self, Stats.self, Delete.self, Alerts.self,
    ])

  struct Options: ParsableArguments {
    @OptionGroup var global: GlobalOptions

    func docker() throws -> DockerClient {
      do {
        return try DockerClient(
          environment: ProcessInfo.processInfo.environment, http: HTTPClient(), timeout: .seconds(20))
      } catch {
        throw ValidationError("\(error) (from WHAGO_DOCKER_HOST)")
      }
    }

    /// Runs one Docker action on the container `name` names and says it was `done`.
    func act(_ name: String, _ done: String, _ action: (DockerClient, String) async throws -> Void) async throws {
      let docker = try docker()
      try await global.withStore { store in
        try await action(docker, try await find(store, name).1)
        print("\(done) \(name)")
      }
    }

    /// The container's row and the reference Docker knows it by; a name whago has no row for
    /// (an orphan) is passed to Docker as it is.
    func find(_ store: Store, _ reference: String) async throws -> (WAHAContainer?, String) {
      let row = try await store.container(named: reference)
      return (row, row?.dockerId ?? row?.name ?? reference)
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Every container: tenant, port, state, sessions, uptime, CPU and memory.")
    @OptionGroup var options: Options
    @Flag(help: "JSON instead of a table.") var json = false

    func run() async throws {
      let docker = try options.docker()
      try await options.global.withStore { store in
        let containers = try await store.containers()
        var rows: [ContainerRow] = []
        for container in containers {
          var row = ContainerRow(container)
          if let details = try? await docker.inspect(container.dockerId ?? container.name) {
            row.state = details.state.status.rawValue
            if details.state.running, let started = details.state.startedAt {
              row.uptimeS = Int64(Date().timeIntervalSince(started))
              if let stats = try? await docker.stats(details.id) {
                row.cpuPercent = (stats.cpuPercent * 10).rounded() / 10
                row.memoryPercent = (stats.memoryPercent * 10).rounded() / 10
              }
            }
          } else {
            row.state = container.dockerId == nil ? "not created" : "missing"
          }
          rows.append(row)
        }
        if json {
          print(try JSONOutput.encode(rows))
          return
        }
        print("NAME\tTENANT\tPORT\tSTATE\tSESSIONS\tUPTIME\tCPU%\tMEM%")
        for row in rows {
          print(
            "\(row.name)\t\(row.tenant)\t\(row.port)\t\(row.state)\t\(row.sessions)\t"
              + "\(row.uptimeS.map { "\($0)s" } ?? "-")\t\(row.cpuPercent.map { "\($0)" } ?? "-")\t"
              + "\(row.memoryPercent.map { "\($0)" } ?? "-")")
        }
      }
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "One container: whago's record, Docker's state, its alerts.")
    @OptionGroup var options: Options
    @Argument(help: "Container name or Docker id.") var name: String

    func run() async throws {
      let docker = try options.docker()
      try await options.global.withStore { store in
        let (row, reference) = try await options.find(store, name)
        let details = try await docker.inspect(reference)
        let alerts = try await store.containerAlerts().filter { $0.subject == (row?.name ?? details.name) }
        print(
          try JSONOutput.encode(
            ContainerShow(
              name: details.name, id: details.id, tenant: row?.tenantName, port: row?.hostPort ?? details.hostPort,
              sessions: row?.sessions, state: details.state.status.rawValue, running: details.state.running,
              startedAt: details.state.startedAt, finishedAt: details.state.finishedAt,
              exitCode: details.state.exitCode, oomKilled: details.state.oomKilled,
              restartCount: details.restartCount, image: details.image, alerts: alerts)))
      }
    }
  }

  struct Start: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start a stopped container.")
    @OptionGroup var options: Options
    @Argument var name: String
    func run() async throws { try await options.act(name, "started") { try await $0.start($1) } }
  }

  struct Stop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Stop a container (its sessions stop; the monitor starts it again within a minute while it has chips).")
    @OptionGroup var options: Options
    @Argument var name: String
    func run() async throws { try await options.act(name, "stopped") { try await $0.stop($1) } }
  }

  struct Restart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Restart a container (a wedged WAHA).")
    @OptionGroup var options: Options
    @Argument var name: String
    func run() async throws { try await options.act(name, "restarted") { try await $0.restart($1) } }
  }

  struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The container's last log lines, stdout and stderr.")
    @OptionGroup var options: Options
    @Argument var name: String
    @Option(help: "How many lines from the end.") var tail = 100
    func run() async throws {
      let docker = try options.docker()
      try await options.global.withStore { store in
        for line in try await docker.logs(try await options.find(store, name).1, tail: tail) {
          print((line.stream == .stderr ? "err " : "out ") + line.text)
        }
      }
    }
  }

  struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "CPU and memory now, computed as `docker stats` does (CPU × online CPUs, memory without page cache).")
    @OptionGroup var options: Options
    @Argument var name: String
    func run() async throws {
      let docker = try options.docker()
      try await options.global.withStore { store in
        let stats = try await docker.stats(try await options.find(store, name).1)
        print(
          String(
            format: "cpu %.1f%% (%d CPUs)  memory %.1f%% (%d of %d MiB)", stats.cpuPercent, stats.onlineCPUs,
            stats.memoryPercent, stats.memoryUsed >> 20, stats.memoryLimit >> 20))
      }
    }
  }

  struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Remove a container that holds no chip (an orphan, or one whose tenant left).")
    @OptionGroup var options: Options
    @Argument var name: String
    @Flag(help: "Remove it: without it, nothing changes.") var yes = false
    func run() async throws {
      guard yes else { throw ValidationError("removing a container cannot be undone: run again with --yes") }
      let docker = try options.docker()
      try await options.global.withStore { store in
        let (row, reference) = try await options.find(store, name)
        if let row, row.sessions > 0 {
          throw ValidationError(
            "\(row.name) holds \(row.sessions) chip session(s) of tenant \(row.tenantName); delete the chips first "
              + "(DELETE /v1/chips/{id}), or restart it if it misbehaves")
        }
        do {
          try await docker.remove(reference, force: true)
        } catch {
          // Already gone from Docker: only whago's row is left to forget.
          guard case DockerError.notFound = error, row != nil else { throw error }
        }
        if let row { try await store.forgetContainer(id: row.id) }
        print("removed \(name)")
      }
    }
  }

  struct Alerts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "The fleet's active alerts (--all: and the cleared ones).")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Cleared alerts too.") var all = false
    @Flag(help: "JSON instead of a table.") var json = false
    func run() async throws {
      try await global.withStore { store in
        let alerts = try await store.containerAlerts(includeCleared: all)
        if json {
          print(try JSONOutput.encode(alerts))
          return
        }
        print("KIND\tSUBJECT\tRAISED\tCLEARED\tDETAIL")
        for alert in alerts {
          print(
            "\(alert.kind.rawValue)\t\(alert.subject)\t\(alert.raisedAt)\t\(alert.clearedAt.map { "\($0)" } ?? "-")\t\(alert.detail)"
          )
        }
      }
    }
  }
}

struct ContainerRow: Encodable {
  var name: String
  var tenant: String
  var port: Int
  var sessions: Int
  var dockerId: String?
  var state = "unknown"
  var uptimeS: Int64?
  var cpuPercent: Double?
  var memoryPercent: Double?

  init(_ container: WAHAContainer) {
    name = container.name
    tenant = container.tenantName
    port = container.hostPort
    sessions = container.sessions
    dockerId = container.dockerId
  }
}

struct ContainerShow: Encodable {
  var name: String
  var id: String
  var tenant: String?
  var port: Int?
  var sessions: Int?
  var state: String
  var running: Bool
  var startedAt: Date?
  var finishedAt: Date?
  var exitCode: Int
  var oomKilled: Bool
  var restartCount: Int
  var image: String
  var alerts: [ContainerAlert]
}
