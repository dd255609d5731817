import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import OutboundHTTP
import ServiceLifecycle
import TestSupport
import Testing

/// The libcurl client against a real HTTP server in this process.
@Suite struct HTTPClientTests {
  /// Serves /echo (method, a header, the body back), /status/{code}, /slow (answers after 3 s).
  func withServer(_ body: (String) async throws -> Void) async throws {
    let router = Router()
    router.on("echo", method: .get) { request, _ in echo(request, body: "") }
    for method in [HTTPTypes.HTTPRequest.Method.post, .put, .delete, .patch] {
      router.on("echo", method: method) { request, _ in
        let bytes = try await request.body.collect(upTo: 1 << 20)
        return echo(request, body: String(buffer: bytes))
      }
    }
    router.get("status/:code") { _, context in
      Response(status: .init(code: Int(context.parameters.get("code") ?? "") ?? 500))
    }
    // 64 MiB, streamed in 64 KiB chunks: a server that would fill a worker's memory.
    router.get("endless") { _, _ in
      Response(
        status: .ok,
        body: ResponseBody { writer in
          let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 << 10)
          for _ in 0..<1024 { try await writer.write(chunk) }
          try await writer.finish(nil)
        })
    }
    router.get("slow") { _, _ in
      try await Task.sleep(for: .seconds(3))
      return "late"
    }
    let server = try await InProcessServer(router: router, label: "http-client-test-server")
    let base = server.base
    do {
      let probe = HTTPClient()
      defer { probe.close() }
      try await eventually("the test server to listen") {
        (try? await probe.send(OutboundRequest(url: base + "/status/204")))?.status == 204
      }
      try await body(base)
    } catch {
      await server.stop()
      throw error
    }
    await server.stop()
  }

  @Sendable static func echoBody(_ request: Request, body: String) -> String {
    "\(request.method.rawValue) \(request.headers[.init("X-Test")!] ?? "-") \(body)"
  }

  @Test func anAnswerPastTheLimitIsCutAndSaysSo() async throws {
    try await withServer { base in
      var options = HTTPClient.Options()
      options.maxResponseBytes = 1 << 20
      let client = HTTPClient(options: options)
      defer { client.close() }
      do {
        let reply = try await client.send(OutboundRequest(url: base + "/endless"))
        Issue.record("a 64 MiB answer came through whole: \(reply.body.count) bytes")
      } catch let error as HTTPClientError {
        #expect(error.kind == .responseTooLarge && "\(error)".contains("more than 1048576 bytes"), "\(error)")
      }
      // Under the limit, answers are whole.
      #expect(try await client.send(OutboundRequest(url: base + "/echo")).status == 200)
    }
  }

  @Test func methodsHeadersBodiesAndStatuses() async throws {
    try await withServer { base in
      let client = HTTPClient()
      defer { client.close() }
      let get = try await client.send(OutboundRequest(url: base + "/echo", headers: [("X-Test", "a")]))
      #expect(get.status == 200 && get.text == "GET a ")
      for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let reply = try await client.send(
          OutboundRequest(method: method, url: base + "/echo", headers: [("X-Test", "b")], body: Array("olá".utf8)))
        #expect(reply.text == "\(method) b olá", "\(method)")
      }
      let json = try await client.send(try .json("POST", base + "/echo", body: ["k": "v"]))
      #expect(json.text == #"POST - {"k":"v"}"#)
      for code in [201, 404, 422, 500, 503] {
        #expect(try await client.send(OutboundRequest(url: base + "/status/\(code)")).status == code)
      }
    }
  }

  @Test func manyRequestsInFlightOnOneThread() async throws {
    try await withServer { base in
      let client = HTTPClient()
      defer { client.close() }
      let texts = try await withThrowingTaskGroup(of: String.self) { group in
        for i in 0..<200 {
          group.addTask {
            try await client.send(OutboundRequest(method: "POST", url: base + "/echo", body: Array("\(i)".utf8))).text
          }
        }
        return try await group.reduce(into: Set<String>()) { $0.insert($1) }
      }
      #expect(texts == Set((0..<200).map { "POST - \($0)" }))
    }
  }

  @Test func timeoutsAndRefusedConnectionsAreTypedAndNeverShowTheQuery() async throws {
    try await withServer { base in
      let client = HTTPClient()
      defer { client.close() }
      do {
        _ = try await client.send(OutboundRequest(url: base + "/slow?api_key=s3cret", timeout: .milliseconds(300)))
        Issue.record("a 3 s answer arrived within 300 ms")
      } catch let error as HTTPClientError {
        #expect(error.kind == .timeout)
        #expect(!"\(error)".contains("s3cret"))
      }
      let closed = try ClosedPort()
      defer { closed.close() }
      do {
        _ = try await client.send(OutboundRequest(url: "http://127.0.0.1:\(closed.port)/x?token=s3cret"))
        Issue.record("connected to a closed port")
      } catch let error as HTTPClientError {
        #expect(error.kind == .connect)
        #expect(!"\(error)".contains("s3cret"))
      }
    }
  }

  @Test func aClosedClientFailsAtOnce() async throws {
    let client = HTTPClient()
    client.close()
    await #expect(throws: HTTPClientError.self) { try await client.send(OutboundRequest(url: "http://127.0.0.1:1/")) }
  }
}

private func echo(_ request: Request, body: String) -> Response {
  Response(
    status: .ok, headers: [.contentType: "text/plain"],
    body: .init(byteBuffer: ByteBuffer(string: HTTPClientTests.echoBody(request, body: body))))
}
