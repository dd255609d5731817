import Synchronization
import Testing

@testable import Enqueuer

/// The key cache in front of PostgreSQL: keys that find nothing are never remembered, so random
/// keys can neither fill it nor push the good ones out.
@Suite struct KeyCacheTests {
  final class Loads: Sendable {
    let count = Mutex(0)
    func load(_ value: String?) -> String? {
      count.withLock { $0 += 1 }
      return value
    }
  }

  @Test func missesAreNotRememberedAndAFullCacheKeepsItsGoodKeys() async throws {
    let cache: KeyCache<String?> = .found(lifetime: .seconds(600), capacity: 3)
    let loads = Loads()
    for n in 0..<1000 { _ = try await cache.value(for: "random-\(n)") { loads.load(nil) } }
    #expect(cache.count == 0 && loads.count.withLock { $0 } == 1000)

    for key in ["a", "b", "c"] { _ = try await cache.value(for: key) { loads.load(key) } }
    // Full of live answers: a fourth is answered but not remembered; the three stay.
    #expect(try await cache.value(for: "d") { loads.load("d") } == "d")
    #expect(cache.count == 3)
    let before = loads.count.withLock { $0 }
    for key in ["a", "b", "c"] { #expect(try await cache.value(for: key) { loads.load(nil) } == key) }
    #expect(loads.count.withLock { $0 } == before, "the good keys were answered from the cache")
  }

  @Test func aFullCacheForgetsWhatExpiredFirst() async throws {
    let cache: KeyCache<String?> = .found(lifetime: .milliseconds(20), capacity: 2)
    for key in ["a", "b"] { _ = try await cache.value(for: key) { key } }
    try await Task.sleep(for: .milliseconds(100))
    _ = try await cache.value(for: "c") { "c" }
    #expect(cache.count == 1)
  }
}
