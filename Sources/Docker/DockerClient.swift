import Foundation
import OutboundHTTP

/// The Docker Engine API (v1.45), the subset that runs one WAHA container per tenant: create,
/// start, stop, restart, remove, list by label, inspect, stats and logs. It exists so the rest of
/// WHAGO manages containers through typed calls and `DockerError`s instead of hand-built JSON, and
/// so the engine can be the local socket in production and `whago sim docker` in tests.
///
/// Requests go through `http`, whose thread serves every call. Give it a client without an
/// address policy, or reach the engine through its unix socket (which the policy never judges):
/// the engine is configured by the operator, never by a tenant.
public struct DockerClient: Sendable {
  /// The API version in every path; engines from 25.0 on serve it.
  public static let apiVersion = "v1.45"

  public let endpoint: DockerEndpoint
  private let http: HTTPClient
  private let timeout: Duration

  /// `timeout` bounds each call; `stop` and `restart` add the grace they give the process.
  public init(endpoint: DockerEndpoint, http: HTTPClient, timeout: Duration = .seconds(30)) {
    self.endpoint = endpoint
    self.http = http
    self.timeout = timeout
  }

  /// The engine `WHAGO_DOCKER_HOST` names in `environment`, else `/var/run/docker.sock`.
  public init(environment: [String: String], http: HTTPClient, timeout: Duration = .seconds(30)) throws(DockerError) {
    self.init(endpoint: try DockerEndpoint(environment: environment), http: http, timeout: timeout)
  }

  /// Succeeds when the engine answers `GET /_ping` with `OK`.
  public func ping() async throws(DockerError) {
    let response = try await send("GET", "/_ping")
    guard response.text.trimmingCharacters(in: .whitespacesAndNewlines) == "OK" else {
      throw .invalidResponse("_ping answered '\(response.text.prefix(100))'")
    }
  }

  /// Creates (does not start) a container named `name` and returns its id. A name in use is
  /// `.conflict`, an image never pulled `.imageNotFound`, each with Docker's message.
  public func createContainer(name: String, spec: ContainerSpec) async throws(DockerError) -> String {
    let body: [UInt8]
    do {
      body = Array(try JSONEncoder().encode(CreateContainerBody(spec)))
    } catch {
      throw .invalidResponse("cannot encode the create body: \(error)")
    }
    let response: OutboundResponse
    do {
      response = try await send(
        "POST", "/containers/create", query: [("name", name)], body: body, notFound: { .imageNotFound($0) })
    } catch {
      throw Self.redacting(spec.environment.values, in: error)
    }
    guard let answer = try? response.decode(CreateContainerAnswer.self), !answer.Id.isEmpty else {
      throw .invalidResponse("create answered \(response.status) without an Id")
    }
    return answer.Id
  }

  /// Starts a container; one already running is left as it is (Docker's 304).
  public func start(_ id: String) async throws(DockerError) {
    _ = try await send("POST", "/containers/\(Self.escape(id))/start")
  }

  /// Sends the container SIGTERM, and SIGKILL after `timeout`; one already stopped is left as it is.
  public func stop(_ id: String, timeout grace: Duration = .seconds(10)) async throws(DockerError) {
    _ = try await send(
      "POST", "/containers/\(Self.escape(id))/stop", query: [("t", String(Self.seconds(grace)))],
      timeout: timeout + grace)
  }

  /// Stops (with `timeout` of grace, as `stop`) and starts again.
  public func restart(_ id: String, timeout grace: Duration = .seconds(10)) async throws(DockerError) {
    _ = try await send(
      "POST", "/containers/\(Self.escape(id))/restart", query: [("t", String(Self.seconds(grace)))],
      timeout: timeout + grace)
  }

  /// Removes a container with its anonymous volumes. A running one is `.conflict` unless `force`
  /// (which kills it first); an unknown one is `.notFound`.
  public func remove(_ id: String, force: Bool = false) async throws(DockerError) {
    _ = try await send(
      "DELETE", "/containers/\(Self.escape(id))", query: [("force", String(force)), ("v", "true")])
  }

  /// Containers carrying every label of `labels` (`key=value`), stopped ones too when `all`.
  public func list(all: Bool = true, labels: [String: String] = [:]) async throws(DockerError)
    -> [ContainerSummary]
  {
    var query = [("all", String(all))]
    if !labels.isEmpty {
      let filters = ["label": labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }]
      let json = (try? JSONEncoder().encode(filters)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
      query.append(("filters", json))
    }
    let response = try await send("GET", "/containers/json", query: query)
    return try Self.decode([ContainerSummary].self, response, "containers/json")
  }

  public func inspect(_ id: String) async throws(DockerError) -> ContainerDetails {
    let response = try await send("GET", "/containers/\(Self.escape(id))/json")
    return try Self.decode(ContainerDetails.self, response, "inspect")
  }

  /// One sample of CPU and memory use (`stream=false`: the engine answers once, against its
  /// previous sample).
  public func stats(_ id: String) async throws(DockerError) -> ContainerStats {
    let response = try await send("GET", "/containers/\(Self.escape(id))/stats", query: [("stream", "false")])
    return try ContainerStats(json: response.body)
  }

  /// The last `tail` lines of stdout and stderr, oldest first.
  public func logs(_ id: String, tail: Int = 100) async throws(DockerError) -> [LogLine] {
    let response = try await send(
      "GET", "/containers/\(Self.escape(id))/logs",
      query: [("stdout", "true"), ("stderr", "true"), ("tail", String(max(0, tail)))])
    // A container with a TTY sends its output as it is, without frames.
    if response.headers["content-type"]?.contains("raw-stream") == true { return LogLine.raw(response.body) }
    return try LogLine.demultiplex(response.body)
  }

  /// `POST /images/create?fromImage=&tag=`: pulls an image onto the engine's host (a new host
  /// has none). Docker answers 200 and streams progress; a failure midway is an `error` line in
  /// that stream, not a status. Pulls take a while: up to 10 minutes.
  public func pullImage(_ image: String) async throws(DockerError) {
    var repository = image
    var tag = "latest"
    if let colon = image.lastIndex(of: ":"), !image[colon...].contains("/") {
      repository = String(image[..<colon])
      tag = String(image[image.index(after: colon)...])
    }
    let response = try await send(
      "POST", "/images/create", query: [("fromImage", repository), ("tag", tag)], timeout: .seconds(600),
      notFound: { .imageNotFound($0) })
    for line in response.text.split(separator: "\n") {
      guard let data = line.data(using: .utf8),
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
        let error = object["error"] as? String
      else { continue }
      throw .imageNotFound(error)
    }
  }

  // MARK: Transport

  /// Sends one call and sorts a failure into `DockerError` by its status; 2xx and 304 (already
  /// started, already stopped) return. `notFound` says what a 404 means for this call.
  private func send(
    _ method: String, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil,
    timeout: Duration? = nil, notFound: (String) -> DockerError = { .notFound($0) }
  ) async throws(DockerError) -> OutboundResponse {
    var url: String
    let socket: String?
    switch endpoint {
    case .unixSocket(let path):
      url = "http://localhost"
      socket = path
    case .tcp(let baseURL):
      url = baseURL
      socket = nil
    }
    url += "/\(Self.apiVersion)\(path)"
    if !query.isEmpty {
      url += "?" + query.map { "\($0.0)=\(Self.escape($0.1))" }.joined(separator: "&")
    }
    var headers: [(name: String, value: String)] = [("Accept", "application/json")]
    if body != nil { headers.append(("Content-Type", "application/json")) }
    let request = OutboundRequest(
      method: method, url: url, headers: headers, body: body, timeout: timeout ?? self.timeout,
      unixSocketPath: socket)
    let response: OutboundResponse
    do {
      response = try await http.send(request)
    } catch {
      throw .unreachable(error)
    }
    switch response.status {
    case 200..<300, 304: return response
    case 400: throw .badRequest(Self.message(response))
    case 404: throw notFound(Self.message(response))
    case 409: throw .conflict(Self.message(response))
    default: throw .engine(status: response.status, message: Self.message(response))
    }
  }

  /// Docker's `{"message": ...}`, else the start of the body.
  private static func message(_ response: OutboundResponse) -> String {
    struct Message: Decodable { var message: String }
    let text = (try? response.decode(Message.self))?.message ?? response.text
    return String(text.prefix(500))
  }

  private static func decode<T: Decodable>(_ type: T.Type, _ response: OutboundResponse, _ what: String)
    throws(DockerError) -> T
  {
    do {
      return try response.decode(T.self)
    } catch {
      throw .invalidResponse("\(what): \(error)")
    }
  }

  /// The error with every environment value blanked out of its message, should the engine quote one.
  static func redacting(_ values: some Sequence<String>, in error: DockerError) -> DockerError {
    func clean(_ message: String) -> String {
      values.filter { $0.count >= 4 }.reduce(message) { $0.replacingOccurrences(of: $1, with: "***") }
    }
    switch error {
    case .notFound(let message): return .notFound(clean(message))
    case .imageNotFound(let message): return .imageNotFound(clean(message))
    case .conflict(let message): return .conflict(clean(message))
    case .badRequest(let message): return .badRequest(clean(message))
    case .engine(let status, let message): return .engine(status: status, message: clean(message))
    case .unreachable, .invalidResponse, .invalidEndpoint: return error
    }
  }

  /// Whole seconds, rounded up: Docker's `t`.
  private static func seconds(_ duration: Duration) -> Int {
    let (seconds, attoseconds) = duration.components
    return max(0, Int(seconds) + (attoseconds > 0 ? 1 : 0))
  }

  private static let unreserved = CharacterSet(
    charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

  /// Percent-encodes a path segment or a query value (JSON filters included).
  static func escape(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
  }
}
