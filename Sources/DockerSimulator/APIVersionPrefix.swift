import HTTPTypes
import Hummingbird

/// Serves every route with and without Docker's version prefix (`/v1.45/containers/json` and
/// `/containers/json`), as the engine does for any version it supports. The prefix is cut before
/// routing, so each route is declared once.
struct APIVersionPrefix<Inner: HTTPResponder>: HTTPResponder {
  typealias Context = Inner.Context
  let inner: Inner

  func respond(to request: Request, context: Context) async throws -> Response {
    guard let path = request.head.path, let stripped = Self.strip(path) else {
      return try await inner.respond(to: request, context: context)
    }
    var head = request.head
    head.path = stripped
    return try await inner.respond(to: Request(head: head, body: request.body), context: context)
  }

  /// `/v1.45/rest` → `/rest`; nil when `path` has no version prefix.
  static func strip(_ path: String) -> String? {
    guard path.hasPrefix("/v") else { return nil }
    let rest = path.dropFirst(2)
    let version = rest.prefix { $0.isNumber || $0 == "." }
    guard let first = version.first, first.isNumber, version.last?.isNumber == true else { return nil }
    let after = rest.dropFirst(version.count)
    guard after.isEmpty || after.hasPrefix("/") || after.hasPrefix("?") else { return nil }
    return after.hasPrefix("/") ? String(after) : "/" + after
  }
}
