import Foundation
import HTTPTypes
import Hummingbird
import Store
import Wire

/// `GET /v1/events`: what happened, as a feed a client reads forward with a cursor. A tenant key
/// reads its tenant's events; a service key (WHAGO's backend) reads every tenant's, or one
/// tenant's with `Whago-Tenant`. Events come in id order, and a page never skips one that commits
/// late (see `Store.events`), so reading from `next` until the page is short misses nothing.
struct EventRoutes {
  let store: Store

  func register(on group: RouterGroup<EnqueuerContext>) {
    group.get("events") { request, context in try await feed(request, context: context) }
  }

  struct Page: Encodable {
    var events: [Event]
    /// The cursor for the next page: the last event's id, or the one asked for when none came.
    var next: String
  }

  func feed(_ request: Request, context: EnqueuerContext) async throws -> Response {
    // A service key without Whago-Tenant reads every tenant's events.
    let tenantID = try context.tenantOrService()
    let query = request.uri.queryParameters
    var problems: [String] = []
    let (after, limit) = PageQuery.read(query, problems: &problems)
    let types: [EventType] = PageQuery.choices(query, "type", problems: &problems)
    guard problems.isEmpty else { throw PageQuery.invalid(problems) }
    let events = try await store.events(tenantID: tenantID, after: after, types: types, limit: limit)
    return try JSONResponse.make(.ok, Page(events: events, next: String(events.last?.id ?? after)))
  }
}
