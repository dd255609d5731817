import CampaignStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Store
import Wire

/// A tenant's campaigns and what became of each recipient: the list, one page of recipients as
/// JSON, and the whole campaign as a CSV report streamed a batch at a time.
struct CampaignResultRoutes {
  let store: Store
  /// Recipients read per query while a report streams: the report's memory, whatever its size.
  var reportBatch = 1000

  func register(on group: RouterGroup<EnqueuerContext>) {
    group.get("campaigns") { request, context in try await list(request, context: context) }
    group.get("campaigns/:id/messages") { request, context in try await messages(request, context: context) }
    group.get("campaigns/:id/report.csv") { _, context in try await report(context: context) }
  }

  struct CampaignPage: Encodable {
    var campaigns: [CampaignView]
    var next: String
  }

  struct MessagePage: Encodable {
    var messages: [CampaignMessage]
    var next: String
  }

  /// `GET /v1/campaigns?status=running,paused&created_from=&created_before=&after=&limit=`.
  func list(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let query = request.uri.queryParameters
    var problems: [String] = []
    let (after, limit) = PageQuery.read(query, problems: &problems)
    let filter = CampaignFilter(
      statuses: PageQuery.choices(query, "status", problems: &problems),
      createdFrom: PageQuery.time(query, "created_from", problems: &problems),
      createdBefore: PageQuery.time(query, "created_before", problems: &problems))
    guard problems.isEmpty else { throw PageQuery.invalid(problems) }
    let page = try await store.campaigns(tenantID: access.tenant.id, filter: filter, after: after, limit: limit)
    return try JSONResponse.make(
      .ok,
      CampaignPage(
        campaigns: page.map { CampaignView($0.0, chips: $0.1, counts: $0.2) },
        next: String(page.last?.0.id ?? after)))
  }

  /// `GET /v1/campaigns/{id}/messages?state=failed&after=&limit=`.
  func messages(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let id = try CampaignRoutes.campaignID(context)
    let query = request.uri.queryParameters
    var problems: [String] = []
    let (after, limit) = PageQuery.read(query, problems: &problems)
    let states: [MessageState] = PageQuery.choices(query, "state", problems: &problems)
    guard problems.isEmpty else { throw PageQuery.invalid(problems) }
    guard
      let page = try await store.campaignMessages(
        tenantID: access.tenant.id, campaignID: id, states: states, after: after, limit: limit)
    else { throw Problem.notFound("no campaign \(id)") }
    return try JSONResponse.make(.ok, MessagePage(messages: page, next: String(page.last?.id ?? after)))
  }

  /// `GET /v1/campaigns/{id}/report.csv`: every recipient, streamed. The first batch is read
  /// before the answer starts, so an unknown campaign is still a 404; a failure after that ends the
  /// chunked body without its last chunk, which an HTTP client reports as an error, never as a
  /// short report.
  func report(context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let id = try CampaignRoutes.campaignID(context)
    let tenantID = access.tenant.id
    let batch = reportBatch
    guard let first = try await store.campaignMessages(tenantID: tenantID, campaignID: id, after: 0, limit: batch)
    else { throw Problem.notFound("no campaign \(id)") }
    let report = CampaignReport(timeZone: TimeZone(identifier: access.tenant.timezone) ?? .gmt)
    let store = self.store
    let body = ResponseBody { writer in
      try await writer.write(ByteBuffer(string: report.header + report.lines(first)))
      var page = first
      while page.count == batch, let last = page.last {
        page =
          try await store.campaignMessages(tenantID: tenantID, campaignID: id, after: last.id, limit: batch) ?? []
        try await writer.write(ByteBuffer(string: report.lines(page)))
      }
      try await writer.finish(nil)
    }
    var headers = HTTPFields()
    headers[.contentType] = "text/csv; charset=utf-8"
    headers[.contentDisposition] = "attachment; filename=\"campaign-\(id).csv\""
    return Response(status: .ok, headers: headers, body: body)
  }
}
