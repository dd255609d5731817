import Foundation
import TestSupport
import Testing
import WAHASimulator
import Wire

@Suite struct SessionTests {
  @Test func startupSessionsAreWorkingWithAStableNumber() async throws {
    try await withSimulator(["--sessions", "chip1,chip2"]) { sim, _ in
      let list = try await sim.api("GET", "/api/sessions").value.array ?? []
      #expect(list.compactMap { $0["name"]?.string } == ["chip1", "chip2"])
      #expect(list.allSatisfy { $0["status"] == "WORKING" && $0["engine"]?["engine"] == "NOWEB" })
      let me = try #require(try await sim.api("GET", "/api/sessions/chip1").value["me"]?["id"]?.string)
      #expect(me.wholeMatch(of: /55119\d{8}@c\.us/) != nil)
      #expect(try await sim.api("GET", "/api/sessions/chip1").value["me"]?["id"]?.string == me)
      let other = try await sim.api("GET", "/api/sessions/chip2").value["me"]?["id"]?.string
      #expect(other != me)
    }
  }

  /// A created session reaches WORKING without a QR scan; each change is a `session.status` webhook
  /// to the session's own webhook URL, carrying its metadata.
  @Test func createdSessionStartsAndReportsToItsOwnWebhook() async throws {
    try await withSimulator(["--sessions", ""]) { sim, hooks in
      let ownURL = "http://127.0.0.1:\(hooks.port)/hooks/own"
      let created = try await sim.api(
        "POST", "/api/sessions",
        [
          "name": "tenant7-chip3", "start": true,
          "config": [
            "metadata": ["tenant": "7", "chip": "3"],
            "webhooks": [["url": .string(ownURL), "events": ["session.status", "message.ack"]]],
          ],
        ])
      #expect(created.status == 201)
      #expect(try created.value["status"] == "STARTING")
      #expect(try created.value["config"]?["metadata"] == ["tenant": "7", "chip": "3"])

      try await eventually("the session to reach WORKING", within: .seconds(30)) {
        try await sim.sessionStatus("tenant7-chip3") == "WORKING"
      }
      let working = try await hooks.first("a WORKING session.status webhook") {
        $0.event == "session.status" && $0.payload["status"] == "WORKING"
      }
      #expect(working.path == "/hooks/own")
      #expect(working.json["session"] == "tenant7-chip3")
      #expect(working.json["metadata"] == ["tenant": "7", "chip": "3"])
      #expect(working.payload["name"] == "tenant7-chip3")
      let statuses = working.payload["statuses"]?.array?.compactMap { $0["status"]?.string } ?? []
      #expect(statuses.suffix(2) == ["STARTING", "WORKING"])
      #expect(hooks.deliveries.contains { $0.event == "session.status" && $0.payload["status"] == "STARTING" })

      #expect(try await sim.api("POST", "/api/sessions", ["name": "tenant7-chip3"]).status == 422)
      #expect(try await sim.api("DELETE", "/api/sessions/tenant7-chip3").status == 200)
      #expect(try await sim.api("GET", "/api/sessions/tenant7-chip3").status == 404)
    }
  }

  @Test func stopRestartAndListing() async throws {
    try await withSimulator(["--sessions", "a,b", "--start-delay", "50ms"]) { sim, hooks in
      #expect(try await sim.api("POST", "/api/sessions/b/stop").status == 201)
      let visible = try await sim.api("GET", "/api/sessions").value.array?.compactMap { $0["name"]?.string }
      #expect(visible == ["a"])
      let all = try await sim.api("GET", "/api/sessions?all=true").value.array?.compactMap { $0["name"]?.string }
      #expect(all == ["a", "b"])
      _ = try await hooks.first("a STOPPED webhook for b") {
        $0.event == "session.status" && $0.json["session"] == "b" && $0.payload["status"] == "STOPPED"
      }

      #expect(try await sim.api("POST", "/api/sessions/b/restart").status == 201)
      try await eventually("b to be WORKING again", within: .seconds(30)) {
        try await sim.sessionStatus("b") == "WORKING"
      }
      #expect(try await sim.sendText(session: "b", to: "5511999998888@c.us", "back").status == 201)
    }
  }
}
