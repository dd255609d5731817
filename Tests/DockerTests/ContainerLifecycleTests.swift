import Docker
import DockerSimulator
import Foundation
import OutboundHTTP
import TestSupport
import Testing

/// DockerClient against the simulator, over a unix socket as against /var/run/docker.sock: each
/// container a real child process that the tests watch start, stop, crash, restart and die.
@Suite struct ContainerLifecycleTests {
  static let image = "devlikeapro/waha-plus:latest"

  @Test func createStartInspectStopRemove() async throws {
    try await withDockerSim { sim in
      let docker = sim.client
      try await docker.ping()
      let spec = ContainerSpec(
        image: Self.image, environment: ["WAHA_API_KEY": "secret-key-1234"], labels: ["whago.tenant": "t1"],
        hostPort: 3117, restartPolicy: .unlessStopped, memoryBytes: 256 << 20, nanoCPUs: 1_000_000_000)
      let id = try await docker.createContainer(name: "waha_plus_user_t1", spec: spec)
      #expect(id.count == 64 && id.allSatisfy(\.isHexDigit))

      let created = try await docker.inspect(id)
      #expect(created.name == "waha_plus_user_t1")
      #expect(created.state.status == .created && !created.state.running && created.state.pid == 0)
      #expect(created.state.startedAt == nil && created.state.finishedAt == nil)
      #expect(created.hostPort == 3117)
      #expect(created.labels == ["whago.tenant": "t1"])
      #expect(created.restartPolicy == .unlessStopped)
      #expect(created.image == Self.image)

      try await docker.start(id)
      try await docker.start(id)  // 304: already started, still a success
      let running = try await docker.inspect("waha_plus_user_t1")  // by name too
      #expect(running.id == id)
      #expect(running.state.status == .running && running.state.running)
      #expect(running.state.pid > 0 && processExists(running.state.pid))
      let started = try #require(running.state.startedAt)
      #expect(abs(started.timeIntervalSinceNow) < 10)
      // The child got the container's environment and its host port.
      try await eventually("the child's output", within: .seconds(5)) {
        try await docker.logs(id) == [
          LogLine(stream: .stdout, text: "started waha_plus_user_t1 on port 3117"),
          LogLine(stream: .stderr, text: "warming up"),
        ]
      }

      try await docker.stop(id, timeout: .seconds(5))
      let stopped = try await docker.inspect(id)
      // The script traps SIGTERM and exits 0, as WAHA does; stopped through the API, so no restart.
      #expect(stopped.state.status == .exited && !stopped.state.running)
      #expect(stopped.state.exitCode == 0 && stopped.state.pid == 0)
      #expect(try #require(stopped.state.finishedAt) >= started)
      #expect(!processExists(running.state.pid))
      try await docker.stop(id)  // 304: already stopped

      try await docker.remove(id)
      await #expect(throws: DockerError.notFound("No such container: \(id)")) { try await docker.inspect(id) }
    }
  }

  @Test func listFiltersByLabelAndByRunningState() async throws {
    try await withDockerSim { sim in
      let docker = sim.client
      let a1 = try await docker.createContainer(
        name: "a1", spec: ContainerSpec(image: Self.image, labels: ["tenant": "a", "role": "waha"]))
      let a2 = try await docker.createContainer(
        name: "a2", spec: ContainerSpec(image: Self.image, labels: ["tenant": "a"]))
      let b1 = try await docker.createContainer(
        name: "b1", spec: ContainerSpec(image: Self.image, labels: ["tenant": "b"]))
      try await docker.start(a2)

      let tenantA = try await docker.list(labels: ["tenant": "a"])
      #expect(Set(tenantA.map(\.id)) == [a1, a2])
      let a2Summary = try #require(tenantA.first { $0.id == a2 })
      #expect(a2Summary.names == ["a2"] && a2Summary.state == .running && a2Summary.status.hasPrefix("Up "))
      #expect(a2Summary.labels == ["tenant": "a"])
      #expect(abs(a2Summary.created.timeIntervalSinceNow) < 60)
      #expect(try await docker.list(labels: ["tenant": "a", "role": "waha"]).map(\.id) == [a1])
      #expect(try await docker.list(labels: ["tenant": "c"]).isEmpty)
      #expect(try await docker.list(all: false).map(\.id) == [a2])
      #expect(Set(try await docker.list().map(\.id)) == [a1, a2, b1])
      let b1Summary = try #require(try await docker.list(labels: ["tenant": "b"]).first)
      #expect(b1Summary.state == .created && b1Summary.status == "Created")
    }
  }

  @Test func duplicateNamesUnknownContainersAndImagesAreDockersErrors() async throws {
    try await withDockerSim { sim in
      let docker = sim.client
      let id = try await docker.createContainer(name: "waha_plus_user_dup", spec: ContainerSpec(image: Self.image))
      await #expect(
        throws: DockerError.conflict(
          "Conflict. The container name \"/waha_plus_user_dup\" is already in use by container \"\(id)\". "
            + "You have to remove (or rename) that container to be able to reuse that name.")
      ) {
        try await docker.createContainer(name: "waha_plus_user_dup", spec: ContainerSpec(image: Self.image))
      }
      await #expect(throws: DockerError.imageNotFound("No such image: nonexistent/image:1")) {
        try await docker.createContainer(
          name: "other", spec: ContainerSpec(image: "nonexistent/image:1", environment: ["K": "value-secret"]))
      }
      let unknown = String(repeating: "f", count: 64)
      await #expect(throws: DockerError.notFound("No such container: \(unknown)")) { try await docker.start(unknown) }
      await #expect(throws: DockerError.notFound("No such container: nope")) { try await docker.inspect("nope") }
      await #expect(throws: DockerError.notFound("No such container: nope")) { try await docker.remove("nope") }
      await #expect(throws: DockerError.notFound("No such container: nope")) { try await docker.stop("nope") }
      await #expect(throws: DockerError.notFound("No such container: nope")) { try await docker.stats("nope") }
      await #expect(throws: DockerError.notFound("No such container: nope")) { try await docker.logs("nope") }
    }
  }

  @Test func aCrashIsRestartedByThePolicyWithANewProcess() async throws {
    // Restarting for 10 s: on a loaded machine the look right after the crash came more than the
    // default second later, and found the container running again.
    try await withDockerSim(restartDelay: .seconds(10)) { sim in
      let docker = sim.client
      let id = try await docker.createContainer(
        name: "waha_plus_user_crash", spec: ContainerSpec(image: Self.image, restartPolicy: .unlessStopped))
      try await docker.start(id)
      let first = try await docker.inspect(id).state.pid

      let killed = try await sim.control("/_sim/containers/\(id)/exit", #"{"code":137}"#)
      #expect(killed.status == 200)
      let crashed = try await docker.inspect(id)
      #expect(crashed.state.status == .restarting && crashed.state.exitCode == 137 && !crashed.state.running)
      #expect(!processExists(first))

      try await eventually("the restart policy to start it again", within: .seconds(40)) {
        try await docker.inspect(id).state.status == .running
      }
      let restarted = try await docker.inspect(id)
      #expect(restarted.state.pid > 0 && restarted.state.pid != first && processExists(restarted.state.pid))
      #expect(restarted.restartCount == 1)
      #expect(restarted.state.exitCode == 137)  // the last exit stays on record, as Docker keeps it

      // Without the restart: exited, and it stays so.
      _ = try await sim.control("/_sim/containers/\(id)/exit", #"{"code":1,"restart":false}"#)
      let down = try await docker.inspect(id)
      #expect(down.state.status == .exited && down.state.exitCode == 1 && down.restartCount == 1)
      try await docker.remove(id)
    }
  }

  @Test func aProcessThatExitsOnItsOwnLeavesItsStatusAndItsOutput() async throws {
    try await withDockerSim { sim in
      let docker = sim.client
      let id = try await docker.createContainer(
        name: "crasher", spec: ContainerSpec(image: Self.image, environment: ["MODE": "crash"], restartPolicy: .no))
      try await docker.start(id)
      try await eventually("the process to exit by itself", within: .seconds(5)) {
        try await docker.inspect(id).state.status == .exited
      }
      let details = try await docker.inspect(id)
      #expect(details.state.exitCode == 3 && details.restartCount == 0 && details.state.finishedAt != nil)
      let lines = try await docker.logs(id)
      #expect(
        lines == [
          LogLine(stream: .stdout, text: "started crasher on port "), LogLine(stream: .stderr, text: "warming up"),
        ])
      #expect(try await docker.logs(id, tail: 1).count == 1)
      let stats = try await docker.stats(id)
      #expect(stats.cpuPercent == 0 && stats.memoryUsed == 0)
    }
  }

  @Test func aStopKillsWhatIgnoresSIGTERMAfterTheGrace() async throws {
    try await withDockerSim { sim in
      let docker = sim.client
      let id = try await docker.createContainer(
        name: "stubborn", spec: ContainerSpec(image: Self.image, environment: ["MODE": "stubborn"]))
      try await docker.start(id)
      let pid = try await docker.inspect(id).state.pid
      try await eventually("the shell to set its trap", within: .seconds(5)) {
        try await docker.logs(id).count == 2
      }
      try await eventually("the shell to exec sleep", within: .seconds(5)) {
        (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) == "sleep\n"
      }
      // The process has only its three standard descriptors: nothing of the simulator's (its
      // listening socket, other containers' pipes) leaked into it. `exec sleep` kept the pid.
      let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
      #expect(descriptors.sorted() == ["0", "1", "2"])
      let clock = ContinuousClock()
      let took = try await clock.measure { try await docker.stop(id, timeout: .seconds(1)) }
      let details = try await docker.inspect(id)
      #expect(details.state.status == .exited && details.state.exitCode == 137)
      #expect(took >= .seconds(1) && took < .seconds(5))
      #expect(!processExists(pid))
    }
  }

  @Test func statsReportTheSetUsageAndLogsAreDemultiplexed() async throws {
    try await withDockerSim { sim in
      let docker = sim.client
      let id = try await docker.createContainer(
        name: "busy", spec: ContainerSpec(image: Self.image, memoryBytes: 256 << 20))
      try await docker.start(id)

      let real = try await docker.stats(id)
      #expect(real.memoryLimit == 256 << 20)
      #expect(real.memoryUsed > 0 && real.memoryUsed < 256 << 20)
      #expect(real.memoryUsage - real.memoryUsed == 4 << 20)  // the page cache, left out
      #expect(real.onlineCPUs == ProcessInfo.processInfo.activeProcessorCount)
      // The real reading: the shell's CPU time, in clock ticks, over milliseconds; only its sign is sure.
      #expect(real.cpuPercent >= 0 && real.cpuPercent.isFinite)

      #expect(try await sim.control("/_sim/containers/\(id)/cpu", #"{"percent":90}"#).status == 200)
      #expect(try await sim.control("/_sim/containers/\(id)/memory", #"{"percent":95}"#).status == 200)
      let loaded = try await docker.stats(id)
      #expect(abs(loaded.cpuPercent - 90) < 0.001)
      #expect(abs(loaded.memoryPercent - 95) < 0.001)
      #expect(loaded.memoryUsed == Int((0.95 * Double(256 << 20)).rounded()))
      #expect(loaded.systemCPUUsage > loaded.previousSystemCPUUsage && loaded.previousSystemCPUUsage > 0)
      let again = try await docker.stats(id)
      #expect(abs(again.cpuPercent - 90) < 0.001)
      #expect(again.previousCPUTotalUsage == loaded.cpuTotalUsage)  // compared with the previous sample

      try await eventually("both lines of output", within: .seconds(5)) { try await docker.logs(id).count == 2 }
      try await docker.stop(id)
      let lines = try await docker.logs(id)
      #expect(
        lines == [
          LogLine(stream: .stdout, text: "started busy on port "), LogLine(stream: .stderr, text: "warming up"),
          LogLine(stream: .stdout, text: "stopping"),
        ])
      #expect(try await docker.logs(id, tail: 1) == [LogLine(stream: .stdout, text: "stopping")])
    }
  }

  @Test func aHostPortHeldByARunningContainerFailsTheStart() async throws {
    try await withDockerSim { sim in
      let docker = sim.client
      let first = try await docker.createContainer(
        name: "first", spec: ContainerSpec(image: Self.image, hostPort: 3150))
      let second = try await docker.createContainer(
        name: "second", spec: ContainerSpec(image: Self.image, hostPort: 3150))
      try await docker.start(first)
      do {
        try await docker.start(second)
        Issue.record("the second start should fail")
      } catch let error as DockerError {
        guard case .engine(500, let message) = error else { throw error }
        #expect(message.hasSuffix("Bind for 0.0.0.0:3150 failed: port is already allocated"))
        #expect(message.contains("endpoint second"))
      }
      #expect(try await docker.inspect(second).state.status == .created)
      try await docker.stop(first)
      try await docker.start(second)
      #expect(try await docker.inspect(second).state.running)
    }
  }

  @Test func removingARunningContainerNeedsForceWhichKillsIt() async throws {
    try await withDockerSim { sim in
      let docker = sim.client
      let id = try await docker.createContainer(name: "doomed", spec: ContainerSpec(image: Self.image))
      try await docker.start(id)
      let pid = try await docker.inspect(id).state.pid
      await #expect(throws: DockerError.self) { try await docker.remove(id) }
      do {
        try await docker.remove(id)
      } catch let error as DockerError {
        guard case .conflict(let message) = error else { throw error }
        #expect(message.contains("You cannot remove a running container \(id)"))
      }
      #expect(processExists(pid))
      try await docker.remove(id, force: true)
      #expect(!processExists(pid))
      #expect(try await docker.list().isEmpty)
    }
  }

  @Test func aHungProcessStopsAnsweringAndResumes() async throws {
    try await withDockerSim { sim in
      let docker = sim.client
      let id = try await docker.createContainer(name: "frozen", spec: ContainerSpec(image: Self.image))
      try await docker.start(id)
      let pid = try await docker.inspect(id).state.pid
      try await eventually("the shell to set its trap", within: .seconds(5)) { try await docker.logs(id).count == 2 }
      #expect(try await sim.control("/_sim/containers/\(id)/hang").status == 200)
      // SIGSTOP takes effect when the process is next scheduled: a moment, not at once.
      try await eventually("the process to be stopped", within: .seconds(5)) { try Self.processState(pid) == "T" }
      #expect(try await docker.inspect(id).state.running)  // Docker sees it running all the same
      #expect(try await sim.control("/_sim/containers/\(id)/resume").status == 200)
      try await eventually("the process to run again", within: .seconds(5)) { try Self.processState(pid) != "T" }
      // A hung one stops too: it is continued after SIGTERM, and its trap runs.
      _ = try await sim.control("/_sim/containers/\(id)/hang")
      try await docker.stop(id, timeout: .seconds(5))
      #expect(try await docker.inspect(id).state.exitCode == 0)
    }
  }

  @Test func restartGivesANewProcessAndShutdownLeavesNoChild() async throws {
    var pids: [Int] = []
    try await withDockerSim { sim in
      let docker = sim.client
      for name in ["one", "two", "three"] {
        let id = try await docker.createContainer(name: name, spec: ContainerSpec(image: Self.image))
        try await docker.start(id)
        pids.append(try await docker.inspect(id).state.pid)
      }
      try await docker.restart("one", timeout: .seconds(5))
      let restarted = try await docker.inspect("one")
      #expect(restarted.state.running && restarted.state.pid != pids[0] && !processExists(pids[0]))
      pids.append(restarted.state.pid)
      #expect(pids.dropFirst().allSatisfy(processExists))
    }
    // The simulator has shut down: every child is gone.
    for pid in pids { #expect(!processExists(pid), "pid \(pid)") }
  }

  /// The state letter of /proc/<pid>/stat (R, S, T for stopped, Z).
  static func processState(_ pid: Int) throws -> String {
    let text = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
    let close = try #require(text.lastIndex(of: ")"))
    return String(text[text.index(close, offsetBy: 2)])
  }
}

/// The same client and simulator over TCP (`WHAGO_DOCKER_HOST=tcp://…`), on a port the kernel chose.
@Suite struct DockerOverTCPTests {
  @Test func pingCreateStartStopRemoveOverTCP() async throws {
    try await withDockerSim(tcp: true) { sim in
      guard case .tcp(_, let port) = sim.address else { throw TestFailure("not on TCP") }
      #expect(port > 0)
      let docker = try DockerClient(environment: ["WHAGO_DOCKER_HOST": "tcp://127.0.0.1:\(port)"], http: sim.http)
      try await docker.ping()
      let id = try await docker.createContainer(
        name: "waha_plus_user_tcp",
        spec: ContainerSpec(image: "devlikeapro/waha-plus", labels: ["whago.tenant": "tcp"], hostPort: 3199))
      try await docker.start(id)
      let details = try await docker.inspect(id)
      #expect(details.state.running && details.hostPort == 3199)
      #expect(try await docker.list(labels: ["whago.tenant": "tcp"]).map(\.names) == [["waha_plus_user_tcp"]])
      try await docker.stop(id)
      #expect(try await docker.inspect(id).state.status == .exited)
      try await docker.remove(id)
      #expect(try await docker.list().isEmpty)
    }
  }

  @Test func theAddressPolicyRefusesLoopbackTCPButNotTheEnginesSocket() async throws {
    var strict = HTTPClient.Options()
    strict.addressPolicy = AddressPolicy()  // nothing internal allowed: loopback refused
    let http = HTTPClient(options: strict)
    defer { http.close() }
    try await withDockerSim(tcp: true) { sim in
      guard case .tcp(let host, let port) = sim.address else { throw TestFailure("not on TCP") }
      await #expect(throws: DockerError.self) {
        try await DockerClient(endpoint: .tcp(baseURL: "http://\(host):\(port)"), http: http).ping()
      }
      do {
        try await DockerClient(endpoint: .tcp(baseURL: "http://\(host):\(port)"), http: http).ping()
      } catch let error as DockerError {
        guard case .unreachable(let transport) = error else { throw error }
        #expect(transport.kind == .forbiddenAddress)
      }
    }
    try await withDockerSim { sim in
      guard case .unixSocket(let path) = sim.address else { throw TestFailure("not on a socket") }
      // http://localhost through a socket: no IP address to judge, so nothing to refuse.
      try await DockerClient(endpoint: .unixSocket(path: path), http: http).ping()
    }
    await http.shutdown()
  }

  @Test func versionPrefixesAndNoneAreServed() async throws {
    try await withDockerSim(tcp: true) { sim in
      guard case .tcp(let host, let port) = sim.address else { throw TestFailure("not on TCP") }
      for path in ["/_ping", "/v1.45/_ping", "/v1.41/_ping"] {
        let response = try await sim.http.send(OutboundRequest(url: "http://\(host):\(port)\(path)"))
        #expect(response.status == 200 && response.text == "OK", "\(path)")
      }
    }
  }
}

struct TestFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
