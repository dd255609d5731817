import Foundation
import Store
import Testing

/// The event kinds openapi.yaml lists are the ones `EventType` records: a kind added to one and not
/// the other fails here, not in a consumer's switch.
@Suite struct EventTypeDocumentTests {
  @Test func theDocumentListsEveryEventKindAndNoOther() throws {
    let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Sources/Enqueuer/openapi.yaml")
    let text = try String(contentsOf: document, encoding: .utf8)
    let schema = try #require(text.range(of: "\n    EventType:\n"), "openapi.yaml has no EventType schema")
    let enumLine = try #require(
      text[schema.upperBound...].split(separator: "\n").first {
        $0.trimmingCharacters(in: .whitespaces).hasPrefix("enum: [")
      })
    let listed = enumLine.drop { $0 != "[" }.dropFirst().prefix { $0 != "]" }
      .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    #expect(Set(listed) == Set(EventType.allCases.map(\.rawValue)))
    #expect(listed.count == EventType.allCases.count, "no kind listed twice")
  }
}
