import Foundation

/// One outbound HTTP request.
public struct OutboundRequest: Sendable {
  public var method: String
  public var url: String
  public var headers: [(name: String, value: String)]
  public var body: [UInt8]?
  /// The whole exchange, connect to last byte.
  public var timeout: Duration
  /// A unix domain socket to connect to instead of the URL's host and port (Docker's
  /// `/var/run/docker.sock`); the URL still names the path and the Host header
  /// (`http://localhost/v1.45/_ping`). Such a request never meets the address policy: there is no
  /// IP address to judge, and the path comes from the operator's configuration, never a tenant's.
  public var unixSocketPath: String?
  /// The address is the operator's own (a WAHA container whago created on its configured host),
  /// never a tenant's choice: the address policy, which guards against tenants aiming requests
  /// at internal services, does not apply. Only code that read the address from operator-owned
  /// configuration sets it.
  public var operatorAddress = false

  public init(
    method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
    timeout: Duration = .seconds(30), unixSocketPath: String? = nil
  ) {
    self.method = method
    self.url = url
    self.headers = headers
    self.body = body
    self.timeout = timeout
    self.unixSocketPath = unixSocketPath
  }

  /// A JSON request: the body encoded, with its Content-Type.
  public static func json(
    _ method: String, _ url: String, body: some Encodable, headers: [(name: String, value: String)] = [],
    timeout: Duration = .seconds(30), unixSocketPath: String? = nil
  ) throws -> OutboundRequest {
    OutboundRequest(
      method: method, url: url, headers: headers + [("Content-Type", "application/json")],
      body: Array(try JSONEncoder().encode(body)), timeout: timeout, unixSocketPath: unixSocketPath)
  }
}

/// An answer: any status (a 4xx or 5xx is an answer, not an error of the transport).
public struct OutboundResponse: Sendable {
  public var status: Int
  /// Header names in lower case; a repeated header keeps its last value.
  public var headers: [String: String]
  public var body: [UInt8]

  public var text: String { String(decoding: body, as: UTF8.self) }

  public func decode<T: Decodable>(_ type: T.Type) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(body))
  }
}

/// The transport failed: no complete answer came back. `url` is the request's address without its
/// query string or credentials, so an error never carries a key.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible, Equatable {
  public enum Kind: Sendable, Equatable {
    /// No answer within the request's timeout; the server may or may not have acted on it.
    case timeout
    /// No connection (refused, unreachable, name not resolved); the request was not sent.
    case connect
    /// The exchange broke after it started.
    case transfer
    /// The client was closed.
    case closed
    /// The request could not be built (a bad URL, say).
    case invalidRequest
    /// The answer was longer than the client takes (`HTTPClient.Options.maxResponseBytes`); the
    /// transfer was cut there. The server did act on the request.
    case responseTooLarge
    /// The address the host resolved to is internal and not allowed (`HTTPClient.Options.addressPolicy`);
    /// nothing was sent.
    case forbiddenAddress
  }

  public let kind: Kind
  public let url: String
  public let detail: String

  public var description: String {
    switch kind {
    case .timeout: "no answer from \(url) in time (\(detail))"
    case .connect: "cannot connect to \(url): \(detail)"
    case .transfer: "the exchange with \(url) broke: \(detail)"
    case .closed: "the HTTP client is closed"
    case .invalidRequest: "invalid request to \(url): \(detail)"
    case .responseTooLarge: "the answer from \(url) is too large: \(detail)"
    case .forbiddenAddress: "refused to connect to \(url): \(detail)"
    }
  }

  /// Scheme, host, port and path: what can be shown.
  public static func safe(_ url: String) -> String {
    guard var components = URLComponents(string: url) else { return "(unparsable URL)" }
    components.user = nil
    components.password = nil
    components.query = nil
    components.fragment = nil
    return components.string ?? "(unparsable URL)"
  }
}
