import ArgumentParser
import Foundation
import JobQueue
import RedisClient

struct Limits: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "A tenant's (or a chip's) rate-limit buckets: level now, capacity and refill.",
    discussion: """
      Lists every bucket in use whose name has NAME as one of its ':'-separated parts (api:acme,
      tenant:acme:day, chip:42). A negative level means tokens are promised to deferred jobs ahead.
      """)

  @OptionGroup var global: GlobalOptions
  @Argument(help: "A tenant name, chip id or other bucket part.") var name: String
  @Flag(help: "Print JSON.") var json = false

  func run() async throws {
    let redis = try global.client()
    defer { redis.close() }
    let buckets = try await Broker(redis: redis).buckets(named: name)
    if json {
      print(try JSONOutput.encode(buckets))
      return
    }
    if buckets.isEmpty {
      print("no buckets in use for \(name) (a bucket exists once a job or request has taken from it)")
      return
    }
    func number(_ value: Double?) -> String {
      guard let value else { return "?" }
      return value == value.rounded() ? String(Int(value)) : String(format: "%.3f", value)
    }
    print(
      Table.render(
        header: ["BUCKET", "LEVEL", "CAPACITY", "REFILL/S", "FULL IN"],
        rows: buckets.map { bucket in
          var full = "-"
          if let capacity = bucket.capacity, let rate = bucket.refillPerSecond, rate > 0, bucket.level < capacity {
            full = String(format: "%.1fs", (capacity - bucket.level) / rate)
          }
          return [
            bucket.name, String(format: "%.2f", bucket.level), number(bucket.capacity), number(bucket.refillPerSecond),
            full,
          ]
        }))
  }
}
