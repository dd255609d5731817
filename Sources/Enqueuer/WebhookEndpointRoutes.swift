import Foundation
import HTTPTypes
import Hummingbird
import Store
import Wire

/// `/v1/webhook-endpoints`: where events are posted, signed. A tenant key registers its tenant's
/// endpoints; a service key without `Whago-Tenant` registers the service's (every tenant's
/// events). The signing secret is shown once, in the answer to the registration.
struct WebhookEndpointRoutes {
  let store: Store
  let limits: EnqueuerServer.Limits

  static let fields: Set<String> = ["url", "events"]

  func register(on group: RouterGroup<EnqueuerContext>) {
    group.post("webhook-endpoints") { request, context in try await create(request, context: context) }
    group.get("webhook-endpoints") { _, context in try await list(context: context) }
    group.delete("webhook-endpoints/{id}") { _, context in try await delete(context: context) }
  }

  struct Created: Encodable {
    var endpoint: WebhookEndpoint
    /// Shown this once: it signs every delivery (`Whago-Signature`).
    var secret: String
  }

  func create(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let tenantID = try context.tenantOrService()
    let body = try await RequestReader.body(
      request, limit: limits.maxBody, fields: Self.fields, noun: "a webhook endpoint")
    let url = body.string("url", max: 2000) { url in
      OutboundURLRule.problem(url, policy: limits.outbound)
    }
    let events = body.choices("events", as: EventType.self, count: 0...EventType.allCases.count)
    try body.finish()
    guard let url else { throw Problem.invalid(body.problems) }
    let (endpoint, secret) = try await store.createWebhookEndpoint(
      tenantID: tenantID, url: OutboundURLRule.lowercasingScheme(url), events: events ?? [])
    var response = try JSONResponse.make(.created, Created(endpoint: endpoint, secret: secret))
    response.headers[.location] = "/v1/webhook-endpoints/\(endpoint.id)"
    return response
  }

  struct List: Encodable {
    var endpoints: [WebhookEndpoint]
  }

  func list(context: EnqueuerContext) async throws -> Response {
    try JSONResponse.make(
      .ok, List(endpoints: try await store.webhookEndpoints(tenantID: try context.tenantOrService())))
  }

  func delete(context: EnqueuerContext) async throws -> Response {
    let tenantID = try context.tenantOrService()
    guard let id = context.parameters.get("id", as: Int64.self), id > 0 else {
      throw Problem.notFound("no webhook endpoint with that id")
    }
    do {
      try await store.deleteWebhookEndpoint(tenantID: tenantID, id: id)
    } catch let error as WebhookEndpointError {
      throw Problem.notFound("\(error)")
    }
    return Response(status: .noContent)
  }
}
