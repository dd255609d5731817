import BillingStore
import Enqueuer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Store
import TestSupport
import Testing

/// `POST /v1/subscription`, in process: WHAGO's backend registers a subscription we charge (a
/// saved card) or one the gateway charges by itself (`gateway_subscription_id`), exactly one of
/// the two.
@Suite struct SubscriptionCreateRouteTests {
  @Test func aGatewayBilledSubscriptionIsRegisteredAndOneOfCardOrGatewaySubscriptionIsRequired() async throws {
    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let tenant = try await TestDatabase.tenant(plan: "free", "createroute")
    let serviceKey = try await store.createAPIKey(tenant: nil).key

    try await withInProcessEnqueuer { client in
      func create(_ json: String) async throws -> (HTTPResponse.Status, [String: Any]) {
        let (status, body, _) = try await callAPI(
          client, .post, "/v1/subscription", key: serviceKey, tenant: tenant, json: json)
        return (status, body)
      }
      let (neither, problem) = try await create(#"{"plan":"business","gateway":"paypal","customer":"payer-1"}"#)
      #expect(neither == .unprocessableContent)
      #expect("\(problem)".contains("gateway_subscription_id (the gateway charges it)"), "\(problem)")
      let (both, twice) = try await create(
        #"{"plan":"business","gateway":"paypal","customer":"payer-1","payment_method":"vault_ok","gateway_subscription_id":"I-1"}"#
      )
      #expect(both == .unprocessableContent && "\(twice)".contains("/gateway_subscription_id"), "\(twice)")
      let (created, view) = try await create(
        #"{"plan":"business","gateway":"paypal","customer":"payer-1","gateway_subscription_id":"I-\#(tenant)"}"#)
      #expect(created == .created && view["gateway"] as? String == "paypal", "\(view)")
    }
    let subscription = try await store.subscription(tenant: tenant).0
    #expect(subscription.gatewaySubscriptionId == "I-\(tenant)" && subscription.paymentMethod == nil)
    #expect(try await store.tenant(named: tenant).plan == "business")
  }
}
