import HTTPTypes
import Hummingbird
import Synchronization

/// Which methods each route answers, read from the router once every route is on it, so a request
/// for a known path with a method it does not take is answered 405 with `Allow` (RFC 9110 15.5.6),
/// and only an unknown path is a 404.
final class AllowedMethods: Sendable {
  private let routes = Mutex<[(path: RouterPath, methods: [String])]>([])

  func load(_ descriptions: [Router<EnqueuerContext>.RouteDescription]) {
    var byPath: [String: (RouterPath, Set<String>)] = [:]
    for route in descriptions {
      byPath[route.path.description, default: (route.path, [])].1.insert(route.method.rawValue)
    }
    let table = byPath.values.map { ($0.0, $0.1.sorted()) }
    routes.withLock { $0 = table }
  }

  /// The methods the routes matching `path` answer; empty when no route has that path.
  func methods(for path: String) -> [String] {
    let parts = path.split(separator: "/", omittingEmptySubsequences: true)
    let matching = routes.withLock { routes in routes.filter { Self.matches($0.path, parts) } }
    // As the router resolves: a literal segment wins over a parameter (`/v1/jobs/batch` is not a job id).
    let best = matching.map { Self.literals($0.path) }.max()
    return Set(matching.filter { Self.literals($0.path) == best }.flatMap(\.methods)).sorted()
  }

  private static func literals(_ route: RouterPath) -> Int {
    route.components.filter { !$0.description.contains("{") && !$0.description.contains("*") }.count
  }

  private static func matches(_ route: RouterPath, _ parts: [Substring]) -> Bool {
    for (index, element) in route.components.enumerated() {
      if element.description == "**" { return true }
      guard index < parts.count, element ~= parts[index] else { return false }
    }
    return route.components.count == parts.count
  }
}
