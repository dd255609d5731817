import Foundation

/// Where the Docker engine listens: its unix socket (the default, `/var/run/docker.sock`), or a
/// plain-HTTP TCP address (`dockerd -H tcp://127.0.0.1:2375`, or `whago sim docker --port`).
/// Read from `WHAGO_DOCKER_HOST` in Docker's own `DOCKER_HOST` spellings, so an operator can copy
/// the value they already use.
public enum DockerEndpoint: Sendable, Equatable, CustomStringConvertible {
  case unixSocket(path: String)
  /// `http://host:port`, without a trailing slash.
  case tcp(baseURL: String)

  public static let environmentVariable = "WHAGO_DOCKER_HOST"
  public static let defaultSocket = "/var/run/docker.sock"

  /// Reads `unix:///var/run/docker.sock`, `/var/run/docker.sock`, `tcp://127.0.0.1:2375` or
  /// `http://127.0.0.1:2375`. TLS (`https://`, port 2376) is refused: it needs client certificates,
  /// which we do not handle; use the socket, or a tunnel to it.
  public init(parsing text: String) throws(DockerError) {
    let value = text.trimmingCharacters(in: .whitespaces)
    if value.hasPrefix("unix://") {
      let path = String(value.dropFirst("unix://".count))
      guard path.hasPrefix("/") else {
        throw .invalidEndpoint(
          "\(Self.environmentVariable): '\(value)' needs an absolute path, like unix:///var/run/docker.sock")
      }
      self = .unixSocket(path: path)
    } else if value.hasPrefix("/") {
      self = .unixSocket(path: value)
    } else if value.hasPrefix("tcp://") || value.hasPrefix("http://") {
      var rest = Substring(value.drop { $0 != ":" }.dropFirst(3))
      while rest.hasSuffix("/") { rest = rest.dropLast() }
      guard !rest.isEmpty, !rest.contains("/"), !rest.contains("@") else {
        throw .invalidEndpoint("\(Self.environmentVariable): '\(value)' is not host:port, like tcp://127.0.0.1:2375")
      }
      self = .tcp(baseURL: "http://\(rest)")
    } else if value.hasPrefix("https://") {
      throw .invalidEndpoint(
        "\(Self.environmentVariable): TLS endpoints are not supported; use the unix socket or plain tcp:// on a private network"
      )
    } else {
      throw .invalidEndpoint(
        "\(Self.environmentVariable): '\(value)' is neither unix:///path nor tcp://host:port")
    }
  }

  /// `WHAGO_DOCKER_HOST` in `environment`, else the default socket.
  public init(environment: [String: String]) throws(DockerError) {
    guard let value = environment[Self.environmentVariable], !value.isEmpty else {
      self = .unixSocket(path: Self.defaultSocket)
      return
    }
    try self.init(parsing: value)
  }

  public var description: String {
    switch self {
    case .unixSocket(let path): "unix://\(path)"
    case .tcp(let baseURL): baseURL
    }
  }
}
