import Foundation
import JobQueue
import Testing
import Wire

@testable import Enqueuer

/// The accepted answers are written by hand; they must read exactly as WireJSON's encoder writes
/// them, which the API document and every client were built against.
@Suite struct AcceptedAnswerTests {
  @Test func answersAreTheBytesWireJSONWouldWrite() throws {
    let results = [
      EnqueueResult(id: "AbCdEfGhIjKlMn", state: .ready, duplicate: false),
      EnqueueResult(id: "ZZZZZZZZZZZZZZ", state: .scheduled, duplicate: true),
      EnqueueResult(id: "00000000000000", state: .active, duplicate: true),
    ]
    let specs = [
      JobSpec(type: "diag.noop", queue: "bench"),
      JobSpec(type: "campaign.send", queue: "campaigns"),
      JobSpec(type: "odd \"type\" \\ / \n", queue: "q/ção"),
    ]
    for (result, spec) in zip(results, specs) {
      let accepted = Accepted(result, spec)
      #expect(accepted.json.bytes == Array(try WireJSON.encoder.encode(accepted)))
    }
    let batch = BatchAccepted(jobs: zip(results, specs).map { Accepted($0, $1) })
    #expect(batch.json.bytes == Array(try WireJSON.encoder.encode(batch)))
    #expect(BatchAccepted(jobs: []).json.bytes == Array(try WireJSON.encoder.encode(BatchAccepted(jobs: []))))
  }
}
