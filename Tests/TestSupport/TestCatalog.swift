import Foundation

/// A jobs/ folder of a test's own, for workers started with a catalog that differs from the
/// project's (a short timeout, a rate limit, a schedule). Removed when the value is released.
public final class TestCatalog: @unchecked Sendable {
  public let directory: String

  public init(_ json: String) throws {
    directory = NSTemporaryDirectory() + "whago-catalog-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try json.write(toFile: directory + "/catalog.json", atomically: true, encoding: .utf8)
  }

  /// Starts `whago work` on `queues` with this catalog.
  public func worker(redis: String, queues: String, concurrency: Int = 8, extra: [String] = []) throws -> ChildProcess {
    try ChildProcess(
      executable: try Whago.binary,
      arguments: ["work", "--queues", queues, "--concurrency", String(concurrency)] + extra,
      environment: ["WHAGO_REDIS_URL": redis, "WHAGO_JOBS_DIR": directory], label: "worker")
  }

  deinit {
    try? FileManager.default.removeItem(atPath: directory)
  }
}
