import OutboundHTTP

/// What went wrong talking to the Docker engine, sorted by what a caller does about it: a missing
/// container or image, a name already taken, a request the engine refused, an engine that cannot
/// be reached. The cases carry Docker's own `{"message": ...}` text, which names containers and
/// images but never the environment a container was created with: `createContainer` blanks the
/// spec's environment values out of any message before it is thrown, so an API key cannot leak
/// into a log through an error.
public enum DockerError: Error, Sendable, Equatable, CustomStringConvertible {
  /// 404: no such container.
  case notFound(String)
  /// 404 on create: no such image (it was never pulled).
  case imageNotFound(String)
  /// 409: the name is in use, or a running container was removed without `force`.
  case conflict(String)
  /// 400: the engine refused the request as malformed.
  case badRequest(String)
  /// Any other failure the engine answered (500 "port is already allocated", say).
  case engine(status: Int, message: String)
  /// No answer: the socket or host is unreachable, or the exchange broke or timed out.
  case unreachable(HTTPClientError)
  /// The engine answered something we cannot read.
  case invalidResponse(String)
  /// The engine's address (`WHAGO_DOCKER_HOST`) cannot be used.
  case invalidEndpoint(String)

  public var description: String {
    switch self {
    case .notFound(let message): "docker: not found: \(message)"
    case .imageNotFound(let message): "docker: image not found: \(message)"
    case .conflict(let message): "docker: conflict: \(message)"
    case .badRequest(let message): "docker: bad request: \(message)"
    case .engine(let status, let message): "docker: the engine answered \(status): \(message)"
    case .unreachable(let error): "docker: \(error)"
    case .invalidResponse(let detail): "docker: unexpected answer: \(detail)"
    case .invalidEndpoint(let detail): "docker: \(detail)"
    }
  }
}
