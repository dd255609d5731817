import Foundation
import RedisClient

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif
#if canImport(Glibc)
  import Glibc
#endif

/// A real `whago serve` on a port of the kernel's choosing, against the test Redis and PostgreSQL.
public final class ServeProcess: Sendable {
  public let child: ChildProcess
  public let port: Int
  public var base: String { "http://127.0.0.1:\(port)" }

  public init(extra: [String] = [], environment: [String: String] = [:]) async throws {
    (child, port) = try await Whago.server(
      ["serve"] + extra,
      environment: [
        "WHAGO_REDIS_URL": try TestRedis.url.description, "WHAGO_DATABASE_URL": try TestDatabase.urlText,
      ].merging(environment) { _, mine in mine }, label: "serve")
    let url = "http://127.0.0.1:\(port)/healthz"
    try await eventually("whago serve to answer /healthz", within: .seconds(30), every: .milliseconds(50)) {
      if !self.child.isRunning { throw TestSetupError("whago serve exited: \(self.child.output)") }
      return (try? await HTTP.send("GET", url))?.status == 200
    }
  }

  /// Starts `whago serve`, runs `body` with it, and stops it before returning or rethrowing:
  /// stopped and awaited, so the next test never starts beside a server still running.
  public static func with<T>(
    extra: [String] = [], environment: [String: String] = [:], _ body: (ServeProcess) async throws -> T
  ) async throws -> T {
    let serve = try await ServeProcess(extra: extra, environment: environment)
    do {
      let result = try await body(serve)
      try? await serve.stop()
      return result
    } catch {
      try? await serve.stop()
      throw error
    }
  }

  public func stop() async throws {
    child.signal(SIGTERM)
    try await child.waitForExit()
  }
}

/// A port on 127.0.0.1 that refuses every connection for as long as this lives: bound, never
/// listening, so no other process can take it and start answering (as a port that was only "free"
/// a moment ago could). For "the service is unreachable" tests.
public final class ClosedPort: Sendable {
  public let port: Int
  private let fd: Int32

  public init() throws {
    (fd, port) = try Self.bound()
  }

  /// A TCP socket bound (not listening) to a port of the kernel's choosing on 127.0.0.1.
  static func bound() throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSetupError("socket() failed") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
        bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
      }
    }
    guard bound else {
      Glibc.close(fd)
      throw TestSetupError("bind() failed")
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
  }

  /// Releases the port; call it from a `defer` so the port is held until the test ends.
  public func close() { Glibc.close(fd) }
}

/// A plain HTTP client for tests (URLSession, a fresh connection per request is fine here).
public enum HTTP {
  public struct Reply: Sendable {
    public let status: Int
    public let headers: [String: String]
    public let body: Data

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object (throws when it is not one).
    public func json() throws -> [String: Any] {
      guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
        throw TestSetupError("body is not a JSON object: \(text)")
      }
      return object
    }

    public func header(_ name: String) -> String? {
      headers.first { $0.key.lowercased() == name.lowercased() }?.value
    }
  }

  public static func send(
    _ method: String, _ url: String, headers: [String: String] = [:], body: Data? = nil
  ) async throws -> Reply {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = method
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    request.httpBody = body
    request.timeoutInterval = 30
    let (data, response) = try await URLSession.shared.data(for: request)
    guard let http = response as? HTTPURLResponse else { throw TestSetupError("no HTTP response") }
    var fields: [String: String] = [:]
    for (key, value) in http.allHeaderFields {
      if let key = key as? String, let value = value as? String { fields[key] = value }
    }
    return Reply(status: http.statusCode, headers: fields, body: data)
  }

  /// Sends `json` (any JSONSerialization value, or a raw string sent as is).
  public static func send(
    _ method: String, _ url: String, key: String?, tenant: String? = nil, json: Any? = nil,
    headers extra: [String: String] = [:]
  ) async throws -> Reply {
    var headers = extra
    if let key { headers["Authorization"] = "Bearer \(key)" }
    if let tenant { headers["Whago-Tenant"] = tenant }
    var body: Data?
    if let raw = json as? String {
      body = Data(raw.utf8)
    } else if let json {
      body = try JSONSerialization.data(withJSONObject: json)
    }
    if body != nil { headers["Content-Type"] = headers["Content-Type"] ?? "application/json" }
    return try await send(method, url, headers: headers, body: body)
  }
}
