import Foundation
import Hummingbird
import Store

/// `/dashboard/api/proxies`: the proxy pool over HTTP for operators' scripts, admin key only, the
/// same as `whago proxy`. Every change is on the audit trail; passwords go in and never come out.
extension DashboardRoutes {
  static let proxyFields: Set<String> = [
    "provider", "host", "port", "username", "password", "country", "username_template", "protocol",
  ]

  func registerProxies(on admin: RouterGroup<EnqueuerContext>) {
    admin.get("api/proxies") { _, _ in
      try JSONResponse.make(.ok, ProxyList(proxies: try await store.proxies()))
    }
    admin.post("api/proxies") { request, _ in try await addProxy(request) }
    admin.delete("api/proxies/{id}") { _, context in
      guard let id = context.parameters.get("id", as: Int64.self) else {
        throw Problem.notFound("no proxy with that id; list them with GET /dashboard/api/proxies")
      }
      do {
        _ = try await actions.audited("proxy.remove", target: "proxy \(id)") {
          try await store.removeProxy(id: id)
          return 1
        }
      } catch let error as ProxyError {
        throw Self.problem(error)
      }
      return Response(status: .noContent)
    }
  }

  func addProxy(_ request: Request) async throws -> Response {
    guard let box = secretBox else {
      throw Problem(
        .serviceUnavailable, "no-secret-key", "Proxy passwords cannot be sealed",
        detail: "\(SecretBoxError.missingKey)")
    }
    let body = try await RequestReader.body(request, limit: 64 << 10, fields: Self.proxyFields, noun: "a proxy")
    let provider = body.string("provider", max: 32)
    let host = body.string("host", max: 253)
    let port = body.int("port", required: true, in: 1...65535).map { Int($0) }
    let username = body.string("username", max: 200)
    let password = body.string("password", max: 500)
    let country = body.string("country", required: false, max: 2)
    let template = body.string("username_template", required: false, max: 300)
    let proto = body.string("protocol", required: false, max: 10)
    try body.finish()
    guard let provider, let host, let port, let username, let password else { throw Problem.invalid(body.problems) }
    do {
      var added: Proxy?
      _ = try await actions.audited("proxy.add", target: "\(provider) \(host):\(port) \(username)") {
        added = try await store.addProxy(
          NewProxy(
            provider: provider, host: host, port: port, username: username, password: password, country: country,
            usernameTemplate: template, protocol: proto), box: box)
        return 1
      }
      var response = try JSONResponse.make(.created, added)
      if let added { response.headers[.location] = "/dashboard/api/proxies/\(added.id)" }
      return response
    } catch let error as ProxyError {
      throw Self.problem(error)
    }
  }

  static func problem(_ error: ProxyError) -> Problem {
    switch error {
    case .invalid: Problem(.badRequest, "invalid-proxy", "The proxy is not valid", detail: "\(error)")
    case .exists: Problem(.conflict, "proxy-exists", "The proxy is in the pool", detail: "\(error)")
    case .notFound: Problem.notFound("\(error)")
    case .inUse: Problem(.conflict, "proxy-in-use", "Chips use the proxy", detail: "\(error)")
    case .poolEmpty: Problem(.serviceUnavailable, "proxy-pool-empty", "The proxy pool is empty", detail: "\(error)")
    }
  }
}

struct ProxyList: Encodable {
  var proxies: [Proxy]
}
