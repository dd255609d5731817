import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Wire

/// Docker Engine API routes (served under any `/v1.NN/` prefix and without one): `_ping`,
/// `version`, and the containers' create, start, stop, restart, remove, list, inspect, stats, logs.
struct EngineRoutes {
  let engine: Engine

  static let maxBody = 1 << 20

  func register(on router: Router<some RequestContext>) {
    router.get("_ping") { _, _ in Self.text("OK") }
    router.head("_ping") { _, _ in Self.text("OK") }
    router.get("version") { _, _ in
      Self.json([
        "Version": "25.0.0-sim", "ApiVersion": "1.45", "MinAPIVersion": "1.24", "Os": "linux",
        "Arch": "amd64", "KernelVersion": "sim", "Components": [["Name": "Engine", "Version": "25.0.0-sim"]],
      ])
    }
    router.post("images/create") { request, _ in
      let query = request.uri.queryParameters
      guard let image = query.get("fromImage"), !image.isEmpty else {
        throw EngineError(status: .badRequest, message: "fromImage is required")
      }
      let tag = query.get("tag").flatMap { $0.isEmpty ? nil : $0 }
      try await engine.pull(tag.map { "\(image):\($0)" } ?? image)
      // Docker streams JSON progress lines; the last one says it is done.
      return Self.text(
        "{\"status\":\"Pulling from \(image)\"}\n{\"status\":\"Status: Downloaded newer image for \(image):\(tag ?? "latest")\"}\n"
      )
    }
    router.post("containers/create") { request, _ in
      let body = try await Self.object(request)
      let id = try await engine.create(
        name: request.uri.queryParameters.get("name"), try CreateRequest(body))
      return Self.json(["Id": JSONValue(id), "Warnings": []], status: .created)
    }
    router.get("containers/json") { request, _ in
      let query = request.uri.queryParameters
      let filters = try query.get("filters").map { text throws(EngineError) in try ContainerFilters(json: text) }
      return Self.json(await engine.list(all: Self.flag(query.get("all")), filters: filters ?? ContainerFilters()))
    }
    router.get("containers/:id/json") { _, context in
      Self.json(try await engine.inspect(context.parameters.get("id") ?? ""))
    }
    router.post("containers/:id/start") { _, context in
      try await engine.start(context.parameters.get("id") ?? "")
        ? Response(status: .noContent) : Response(status: .notModified)
    }
    router.post("containers/:id/stop") { request, context in
      let grace = try Self.grace(request)
      return try await engine.stop(context.parameters.get("id") ?? "", grace: grace)
        ? Response(status: .noContent) : Response(status: .notModified)
    }
    router.post("containers/:id/restart") { request, context in
      try await engine.restart(context.parameters.get("id") ?? "", grace: try Self.grace(request))
      return Response(status: .noContent)
    }
    router.delete("containers/:id") { request, context in
      try await engine.remove(
        context.parameters.get("id") ?? "", force: Self.flag(request.uri.queryParameters.get("force")))
      return Response(status: .noContent)
    }
    router.get("containers/:id/stats") { _, context in
      // stream=false is the only mode served: one sample, against the previous one.
      Self.json(try await engine.stats(context.parameters.get("id") ?? ""))
    }
    router.get("containers/:id/logs") { request, context in
      try await logs(request, id: context.parameters.get("id") ?? "")
    }
  }

  /// `?stdout=1&stderr=1&tail=N&timestamps=1`; `follow` is not served (the answer ends at once).
  private func logs(_ request: Request, id: String) async throws -> Response {
    let query = request.uri.queryParameters
    let stdout = Self.flag(query.get("stdout"))
    let stderr = Self.flag(query.get("stderr"))
    guard stdout || stderr else {
      throw EngineError.badParameter("Bad parameters: you must choose at least one stream")
    }
    let tail = query.get("tail").flatMap { $0 == "all" ? nil : Int($0) }
    let lines = try await engine.logs(id).lines(stdout: stdout, stderr: stderr, tail: tail)
    return Response(
      status: .ok, headers: [.contentType: "application/vnd.docker.multiplexed-stream"],
      body: .init(
        byteBuffer: ByteBuffer(bytes: OutputLog.frames(lines, timestamps: Self.flag(query.get("timestamps"))))))
  }

  // MARK: Exchange

  /// Docker's booleans in a query: 1, true, True, yes.
  static func flag(_ value: String?) -> Bool {
    guard let value else { return false }
    return ["1", "true", "yes"].contains(value.lowercased())
  }

  /// `?t=` seconds (Docker's default grace is 10 s).
  private static func grace(_ request: Request) throws(EngineError) -> Duration {
    guard let text = request.uri.queryParameters.get("t") ?? request.uri.queryParameters.get("timeout") else {
      return .seconds(10)
    }
    guard let seconds = Int(text), seconds >= -1 else { throw .badParameter("invalid value for t: \(text)") }
    return .seconds(max(0, seconds))
  }

  /// The body as a JSON object; a missing body is an empty object.
  static func object(_ request: Request) async throws -> JSONValue {
    let buffer: ByteBuffer
    do {
      buffer = try await request.body.collect(upTo: maxBody)
    } catch is NIOTooManyBytesError {
      throw EngineError(status: .contentTooLarge, message: "request body is too large")
    }
    if buffer.readableBytes == 0 { return [:] }
    let value: JSONValue
    do {
      value = try JSONValue.parse(Array(buffer.readableBytesView))
    } catch {
      throw EngineError.badParameter("invalid JSON: \(error.reason)")
    }
    guard case .object = value else { throw EngineError.badParameter("invalid JSON: the body must be an object") }
    return value
  }

  static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
    Response(
      status: status, headers: [.contentType: "application/json"],
      body: .init(byteBuffer: ByteBuffer(bytes: value.encoded())))
  }

  static func text(_ text: String) -> Response {
    Response(
      status: .ok,
      headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-cache, no-store, must-revalidate"],
      body: .init(byteBuffer: ByteBuffer(string: text)))
  }
}
