import Foundation
import JobQueue
import RedisClient

/// The Redis that scripts/test started for this run, and per-test queue names so tests running in
/// parallel never see each other's keys.
public enum TestRedis {
  public static var url: RedisURL {
    get throws {
      guard let text = ProcessInfo.processInfo.environment["WHAGO_TEST_REDIS_URL"] else {
        throw TestSetupError("WHAGO_TEST_REDIS_URL is not set: run the tests with scripts/test, which starts Redis")
      }
      return try RedisURL(text)
    }
  }

  public static func client() throws -> RedisClient {
    RedisClient(url: try url)
  }

  public static func broker() throws -> Broker {
    Broker(redis: try client())
  }

  /// A queue name no other test uses.
  public static func queue(_ label: String = #function) -> String {
    let clean = label.prefix(while: { $0 != "(" }).filter { $0.isLetter || $0.isNumber }
    return "t-\(clean.prefix(24))-\(UInt32.random(in: 0...UInt32.max))"
  }
}

public struct TestSetupError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds or `limit` passes. The limit is a generous liveness bound
/// (the property is "eventually"), never a performance assertion.
public func eventually(
  _ what: String, within limit: Duration = .seconds(60), every interval: Duration = .milliseconds(50),
  _ condition: () async throws -> Bool
) async throws {
  let deadline = ContinuousClock.now + limit
  while ContinuousClock.now < deadline {
    if try await condition() { return }
    try await Task.sleep(for: interval)
  }
  throw TestSetupError("timed out after \(limit) waiting for: \(what)")
}
