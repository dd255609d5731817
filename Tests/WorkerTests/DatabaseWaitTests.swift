import Foundation
import RedisClient
import TestSupport
import Testing

extension WorkerProcessTests {
  /// A worker started while PostgreSQL is out of reach waits for it instead of exiting (a
  /// supervisor would only restart it in a loop), and still stops cleanly when told to.
  @Suite struct DatabaseWaitTests {
    @Test func aWorkerStartedWithoutPostgreSQLWaitsForItAndStopsWhenTold() async throws {
      let closed = try ClosedPort()
      defer { closed.close() }
      let worker = try ChildProcess(
        executable: try Whago.binary, arguments: ["work", "--queues", "diag", "--concurrency", "2"],
        environment: [
          "WHAGO_REDIS_URL": try TestRedis.url.description,
          "WHAGO_DATABASE_URL": "postgres://whago:secret-pw@127.0.0.1:\(closed.port)/whago",
        ], label: "worker-nodb")
      defer { if worker.isRunning { worker.signal(SIGKILL) } }
      try await eventually("the worker to say it waits for PostgreSQL", within: .seconds(30)) {
        if !worker.isRunning { throw TestSetupError("the worker exited: \(worker.output.suffix(1500))") }
        return worker.output.contains("PostgreSQL is out of reach; waiting for it before starting")
      }
      // Still waiting some retries later, not exited; the password never reaches its log.
      try await Task.sleep(for: .seconds(3))
      #expect(worker.isRunning, "\(worker.output.suffix(1500))")
      #expect(!worker.output.contains("secret-pw"))
      worker.signal(SIGTERM)
      try await worker.waitForExit(within: .seconds(30))
    }
  }
}
