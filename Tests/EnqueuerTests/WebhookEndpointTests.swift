import Enqueuer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OutboundHTTP
import Postgres
import Store
import TestSupport
import Testing
import Wire

/// `/v1/webhook-endpoints`, in process: registering shows the secret once, listing never does, a
/// private address is refused unless the operator allows it, and each key sees only its own.
@Suite struct WebhookEndpointTests {
  static func call(
    _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, key: String, json: String? = nil
  ) async throws -> (HTTPResponse.Status, [String: Any], HTTPFields) {
    try await callAPI(client, method, uri, key: key, json: json)
  }

  @Test func registerListAndDeleteWithTheSecretShownOnce() async throws {
    try await TestDatabase.migrate()
    let (a, b) = (
      try await TestDatabase.tenant(plan: "enterprise", "hooks-a"),
      try await TestDatabase.tenant(plan: "enterprise", "hooks-b")
    )
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let (aKey, bKey) = (try await store.createAPIKey(tenant: a).key, try await store.createAPIKey(tenant: b).key)
    let serviceKey = try await store.createAPIKey(tenant: nil).key

    try await withInProcessEnqueuer { client in
      // Refused: a loopback address, a private one, credentials, an unknown event type (at its index).
      for (body, pointer) in [
        (#"{"url": "http://127.0.0.1:9/hook"}"#, "/url"), (#"{"url": "https://10.1.2.3/hook"}"#, "/url"),
        (#"{"url": "https://user:pw@hooks.example.invalid/"}"#, "/url"),
        (#"{"url": "ftp://hooks.example.invalid/"}"#, "/url"),
        (#"{"url": "https://hooks.example.invalid/", "events": ["credits.low", "credits.lost"]}"#, "/events/1"),
        (#"{"url": "https://hooks.example.invalid/", "events": ["credits.low", "credits.low"]}"#, "/events/1"),
        (#"{"url": "https://hooks.example.invalid/", "secret": "mine"}"#, "/secret"),
      ] {
        let (status, problem, _) = try await Self.call(client, .post, "/v1/webhook-endpoints", key: aKey, json: body)
        #expect(status == .unprocessableContent, "\(body)")
        let pointers = (problem["errors"] as? [[String: Any]] ?? []).compactMap { $0["pointer"] as? String }
        #expect(pointers.contains(pointer), "\(body): \(problem)")
      }

      let (status, created, headers) = try await Self.call(
        client, .post, "/v1/webhook-endpoints", key: aKey,
        json: #"{"url": "https://hooks.example.invalid/whago", "events": ["campaign.completed", "billing.paid"]}"#)
      #expect(status == .created, "\(created)")
      let secret = try #require(created["secret"] as? String)
      #expect(secret.hasPrefix("whsec_") && secret.count == 54)
      let endpoint = try #require(created["endpoint"] as? [String: Any])
      let id = try #require(endpoint["id"] as? Int)
      #expect(headers[.location] == "/v1/webhook-endpoints/\(id)")
      #expect(endpoint["tenant"] as? String == a)
      #expect(endpoint["events"] as? [String] == ["campaign.completed", "billing.paid"])
      #expect(endpoint.keys.contains("disabled_at") && endpoint["secret"] == nil)

      // Listed without the secret, and only to its own tenant.
      let (_, listed, _) = try await Self.call(client, .get, "/v1/webhook-endpoints", key: aKey)
      let endpoints = try #require(listed["endpoints"] as? [[String: Any]])
      #expect(endpoints.map { $0["id"] as? Int } == [id])
      #expect(!"\(listed)".contains(secret))
      let (_, other, _) = try await Self.call(client, .get, "/v1/webhook-endpoints", key: bKey)
      #expect((other["endpoints"] as? [Any])?.isEmpty == true)
      #expect(try await Self.call(client, .delete, "/v1/webhook-endpoints/\(id)", key: bKey).0 == .notFound)

      // The service's own endpoint (every tenant's events), apart from the tenants'.
      let (serviceStatus, service, _) = try await Self.call(
        client, .post, "/v1/webhook-endpoints", key: serviceKey, json: #"{"url": "https://backend.example.invalid/e"}"#)
      #expect(serviceStatus == .created, "\(service)")
      let serviceEndpoint = try #require(service["endpoint"] as? [String: Any])
      #expect(serviceEndpoint["tenant"] is NSNull && serviceEndpoint["events"] as? [String] == [])
      let serviceID = try #require(serviceEndpoint["id"] as? Int)

      #expect(try await Self.call(client, .delete, "/v1/webhook-endpoints/\(id)", key: aKey).0 == .noContent)
      #expect(try await Self.call(client, .delete, "/v1/webhook-endpoints/\(id)", key: aKey).0 == .notFound)
      #expect(
        try await Self.call(client, .delete, "/v1/webhook-endpoints/\(serviceID)", key: serviceKey).0 == .noContent)
    }

    // An operator who allows a network (WHAGO_OUTBOUND_ALLOW, here loopback) may register there.
    var limits = EnqueuerServer.Limits()
    limits.outbound = try AddressPolicy(allowList: "127.0.0.0/8")
    try await withInProcessEnqueuer(limits: limits) { client in
      let (status, created, _) = try await Self.call(
        client, .post, "/v1/webhook-endpoints", key: aKey, json: #"{"url": "http://127.0.0.1:9/hook"}"#)
      #expect(status == .created, "\(created)")
      let id = try #require((created["endpoint"] as? [String: Any])?["id"] as? Int)
      #expect(try await Self.call(client, .delete, "/v1/webhook-endpoints/\(id)", key: aKey).0 == .noContent)
    }
  }
}
