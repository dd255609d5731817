import Foundation
import TestSupport
import Testing
import WAHASimulator
import Wire

@Suite struct SendingTests {
  @Test func sendTextAnswersNowebShapeAndIsLogged() async throws {
    try await withSimulator(["--sessions", "chip1"]) { sim, _ in
      let before = Int(Date().timeIntervalSince1970 * 1000)
      let reply = try await sim.sendText(session: "chip1", to: "5511999998888@c.us", "Oi, Maria!")
      #expect(reply.status == 201)
      let value = try reply.value
      let key = try #require(value["key"])
      #expect(key["remoteJid"] == "5511999998888@s.whatsapp.net")
      #expect(key["fromMe"] == true)
      let id = try #require(key["id"]?.string)
      #expect(id.hasPrefix("3EB0") && id.count == 20)
      #expect(value["status"] == "PENDING")

      let log = try await sim.messages()
      #expect(log.count == 1)
      let message = try #require(log.first)
      #expect(message.session == "chip1")
      #expect(message.chatId == "5511999998888@c.us")
      #expect(message.text == "Oi, Maria!")
      #expect(message.id == id)
      #expect(message.time >= before && message.time <= Int(Date().timeIntervalSince1970 * 1000))
      #expect(message.media_url == nil)

      #expect(try await sim.control("DELETE", "/messages").status == 204)
      #expect(try await sim.messages().isEmpty)
    }
  }

  @Test func mediaSendsLogCaptionAndURL() async throws {
    try await withSimulator { sim, _ in
      for path in ["/api/sendImage", "/api/sendFile"] {
        let reply = try await sim.api(
          "POST", path,
          [
            "session": "default", "chatId": "5521987654321@c.us", "caption": "Promo",
            "file": ["mimetype": "image/jpeg", "url": "https://cdn.example.com/a.jpg", "filename": "a.jpg"],
          ])
        #expect(reply.status == 201, "\(path): \(reply.text)")
      }
      let log = try await sim.messages()
      #expect(log.map(\.text) == ["Promo", "Promo"])
      #expect(log.map(\.media_url) == ["https://cdn.example.com/a.jpg", "https://cdn.example.com/a.jpg"])
    }
  }

  @Test func seenAndTypingAnswerButLogNothing() async throws {
    try await withSimulator { sim, _ in
      let chat: JSONValue = ["session": "default", "chatId": "5511999998888@c.us"]
      #expect(try await sim.api("POST", "/api/sendSeen", chat).status == 201)
      let typing = try await sim.api("POST", "/api/startTyping", chat)
      #expect(typing.status == 201)
      #expect(try typing.value == ["result": true])
      #expect(try await sim.api("POST", "/api/stopTyping", chat).status == 201)
      #expect(try await sim.messages().isEmpty)
    }
  }

  @Test func refusesWithoutTheAPIKey() async throws {
    try await withSimulator { sim, _ in
      for key in ["", "wrong-key"] {
        let reply = try await sim.api(
          "POST", "/api/sendText", ["session": "default", "chatId": "5511999998888@c.us", "text": "x"], key: key)
        #expect(reply.status == 401)
        #expect(try reply.value == ["message": "Unauthorized", "statusCode": 401])
        #expect(try await sim.api("GET", "/api/sessions", key: key).status == 401)
      }
      #expect(try await sim.messages().isEmpty)
    }
  }

  @Test func unknownSessionIs404() async throws {
    try await withSimulator { sim, _ in
      let reply = try await sim.sendText(session: "nope", to: "5511999998888@c.us", "x")
      #expect(reply.status == 404)
      #expect(try reply.value == ["statusCode": 404, "message": "Session not found"])
      #expect(try await sim.api("GET", "/api/sessions/nope").status == 404)
      #expect(try await sim.api("GET", "/api/contacts/check-exists?phone=5511999998888&session=nope").status == 404)
    }
  }

  @Test func stoppedSessionIs422WithWAHAsBody() async throws {
    try await withSimulator { sim, _ in
      #expect(try await sim.api("POST", "/api/sessions/default/stop").status == 201)
      #expect(try await sim.sessionStatus("default") == "STOPPED")
      let reply = try await sim.sendText(to: "5511999998888@c.us", "x")
      #expect(reply.status == 422)
      #expect(
        try reply.value == [
          "error": "Session status is not as expected. Try again later or restart the session",
          "session": "default", "status": "STOPPED", "expected": ["WORKING"],
        ])
      #expect(try await sim.messages().isEmpty)
    }
  }

  @Test func validationErrorsAre400() async throws {
    try await withSimulator { sim, _ in
      let bodies: [JSONValue] = [
        ["session": "default", "text": "no chat"],
        ["session": "default", "chatId": "+55 11 99999-8888", "text": "bad chat"],
        ["session": "default", "chatId": "5511999998888", "text": "no suffix"],
        ["session": "default", "chatId": "5511999998888@c.us"],
        ["session": "default", "chatId": "5511999998888@c.us", "text": ""],
      ]
      for body in bodies {
        let reply = try await sim.api("POST", "/api/sendText", body)
        #expect(reply.status == 400, "\(body): \(reply.text)")
        #expect(try reply.value["statusCode"] == 400)
      }
      let noFile = try await sim.api("POST", "/api/sendImage", ["session": "default", "chatId": "5511999998888@c.us"])
      #expect(noFile.status == 400)
      #expect(try await sim.messages().isEmpty)
    }
  }

  @Test func checkExistsFollowsTheDocumentedRules() async throws {
    try await withSimulator { sim, _ in
      func check(_ phone: String) async throws -> HTTP.Reply {
        try await sim.api("GET", "/api/contacts/check-exists?phone=\(phone)&session=default")
      }
      let withNinth = try await check("5511999998888")
      #expect(withNinth.status == 200)
      #expect(try withNinth.value == ["numberExists": true, "chatId": "5511999998888@c.us"])
      #expect(try await check("551199998888").value == ["numberExists": true, "chatId": "5511999998888@c.us"])
      #expect(try await check("5511999990000").value["numberExists"] == false)
      #expect(try await check("551199990000").value["numberExists"] == false)
      #expect(try await check("abc").status == 400)
    }
  }

  /// Many sends in flight at once: every one answered, every one logged once, ids unique.
  @Test func concurrentSendsAreAllLoggedOnce() async throws {
    try await withSimulator(["--sessions", "a,b"]) { sim, _ in
      let count = 200
      let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
        for index in 0..<count {
          group.addTask {
            try await sim.sendText(
              session: index.isMultiple(of: 2) ? "a" : "b", to: "55119\(String(format: "%08d", index))@c.us",
              "m\(index)"
            ).status
          }
        }
        return try await group.reduce(into: [Int]()) { $0.append($1) }
      }
      #expect(statuses.allSatisfy { $0 == 201 })
      let log = try await sim.messages()
      #expect(log.count == count)
      #expect(Set(log.map(\.id)).count == count)
      #expect(Set(log.map(\.text)) == Set((0..<count).map { "m\($0)" }))
    }
  }
}
