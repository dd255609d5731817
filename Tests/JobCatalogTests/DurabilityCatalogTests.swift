import Foundation
import JobCatalog
import JobQueue
import Testing

/// A queue's `durability` in catalog.json: read into the broker's map, refused when it cannot hold.
@Suite struct DurabilityCatalogTests {
  func parse(_ queue: String) throws -> JobCatalog {
    try JobCatalog.parse(Data(#"{"queues": {"q": \#(queue), "r": {"weight": 1}}, "jobs": {}}"#.utf8), source: "test")
  }

  @Test func aQueueWaitsForTheReplicasItNamesAndOthersForNone() throws {
    let catalog = try parse(#"{"weight": 1, "durability": {"replicas": 2, "timeout_ms": 250}}"#)
    #expect(catalog.durability == ["q": Durability(replicas: 2, timeout: .milliseconds(250))])
    #expect(catalog.queue("r").durability == nil)
    for bad in [#"{"replicas": 0, "timeout_ms": 100}"#, #"{"replicas": 1, "timeout_ms": 0}"#] {
      #expect {
        try parse(#"{"weight": 1, "durability": \#(bad)}"#)
      } throws: { "\($0)".contains("durability needs replicas >= 1") }
    }
  }
}
