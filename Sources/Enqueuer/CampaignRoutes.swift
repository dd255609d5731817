import CampaignStore
import Campaigns
import Foundation
import HTTPTypes
import Hummingbird
import JobCatalog
import JobContracts
import Store
import Wire

/// `/v1/campaigns`: a tenant creates a campaign from a template, its chips and its recipients
/// (JSON rows or a CSV upload), and reads its status and counts. Every row that is not accepted is
/// reported with its reason; none is dropped silently. Another tenant's campaign answers 404.
struct CampaignRoutes {
  let store: Store
  let limits: EnqueuerServer.Limits
  let launcher: CampaignLauncher

  func register(on group: RouterGroup<EnqueuerContext>) {
    group.post("campaigns") { request, context in try await create(request, context: context) }
    group.get("campaigns/:id") { _, context in try await show(context: context) }
    group.post("campaigns/:id/recipients") { request, context in try await addRecipients(request, context: context) }
    for command in CampaignCommand.allCases {
      group.post("campaigns/:id/\(command.rawValue)") { _, context in try await apply(command, context: context) }
    }
  }

  func create(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let body = try await RequestReader.bytes(request, limit: limits.maxBatchBody)
    let draft = try CampaignDraft.parse(try JSONValue.body(body.readableBytesView), plan: access.plan)
    let id: Int64
    do {
      id = try await store.createCampaign(
        tenantID: access.tenant.id, name: draft.name, template: draft.template.source, mediaURL: draft.mediaURL,
        chipIDs: draft.chipIDs, minIntervalMs: draft.minIntervalMs, maxIntervalMs: draft.maxIntervalMs,
        rest: draft.rest, startAt: draft.startAt, recipients: draft.recipients)
    } catch let error as CampaignError {
      throw Problem.invalid([.init(pointer: "/chip_ids", detail: "\(error)")])
    }
    var response = try JSONResponse.make(
      .created,
      Created(id: id, name: draft.name, status: .draft, recipients: Tally(draft.recipients.count, draft.rejected)))
    response.headers[.location] = "/v1/campaigns/\(id)"
    return response
  }

  func addRecipients(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let id = try Self.campaignID(context)
    guard let (campaign, _, _) = try await store.campaign(tenantID: access.tenant.id, id: id) else {
      throw Problem.notFound("no campaign \(id)")
    }
    let template = try? MessageTemplate(campaign.template)
    let listed = Set(
      try await store.campaignPhones(tenantID: access.tenant.id, campaignID: id).compactMap {
        try? PhoneNumber(parsing: $0)
      })
    let body = try await RequestReader.bytes(request, limit: limits.maxBatchBody)
    let list: RecipientList
    do {
      if request.headers[.contentType]?.lowercased().hasPrefix("text/csv") == true {
        list = try RecipientList(
          csv: String(buffer: body), template: template, limits: recipientLimits(access.plan), alreadyListed: listed)
      } else {
        guard case .object(let object) = try JSONValue.body(body.readableBytesView), let rows = object["recipients"],
          object.count == 1
        else {
          throw Problem.invalid([
            .init(pointer: "", detail: "send {\"recipients\": [{phone, vars}]} or a text/csv upload")
          ])
        }
        list = try RecipientList(
          rows: try CampaignDraft.recipientRows(rows), template: template, limits: recipientLimits(access.plan),
          alreadyListed: listed)
      }
    } catch let error as RecipientListError {
      throw Problem.invalid([.init(pointer: "", detail: "\(error)")])
    }
    let recipients = list.accepted.map { CampaignRecipient(phone: $0.phone.e164, variables: $0.variables) }
    do {
      _ = try await store.addRecipients(tenantID: access.tenant.id, campaignID: id, recipients: recipients)
    } catch let error as CampaignError {
      throw Problem(.conflict, "campaign-ended", "The campaign has ended", detail: "\(error)")
    }
    return try JSONResponse.make(.ok, Added(recipients: Tally(recipients.count, list.rejected)))
  }

  func show(context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let id = try Self.campaignID(context)
    guard let (campaign, chips, counts) = try await store.campaign(tenantID: access.tenant.id, id: id) else {
      throw Problem.notFound("no campaign \(id)")
    }
    return try JSONResponse.make(.ok, CampaignView(campaign, chips: chips, counts: counts))
  }

  /// start, pause, resume, cancel. The state change commits first, then the jobs are enqueued; if
  /// the enqueue fails the answer is 503 and asking again (start or resume) repairs it.
  func apply(_ command: CampaignCommand, context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let id = try Self.campaignID(context)
    let record: CampaignRecord
    let launch: CampaignLaunch?
    do {
      (record, launch) = try await store.command(command, campaignID: id, tenant: access)
    } catch CampaignError.notFound {
      throw Problem.notFound("no campaign \(id)")
    } catch let error as CampaignStateError {
      throw Problem(.conflict, "campaign-state", "The campaign cannot do that now", detail: "\(error)")
    }
    if let launch { try await launcher.launch([launch.launch]) }
    guard let (campaign, chips, counts) = try await store.campaign(tenantID: access.tenant.id, id: record.id) else {
      throw Problem.notFound("no campaign \(id)")
    }
    return try JSONResponse.make(.ok, CampaignView(campaign, chips: chips, counts: counts))
  }

  static func campaignID(_ context: EnqueuerContext) throws(Problem) -> Int64 {
    guard let id = context.parameters.get("id").flatMap({ Int64($0) }), id > 0 else {
      throw Problem.notFound("no campaign with that id")
    }
    return id
  }

  private func recipientLimits(_ plan: Plan) -> RecipientLimits {
    RecipientLimits(maxRows: CampaignDraft.maxRecipients, contactsPerList: plan.contactsPerList)
  }
}

struct Tally: Encodable {
  struct Rejected: Encodable {
    var row: Int
    var phone: String
    var reason: String

    /// The phone as given, cut to `maxEcho` characters and saying so: a refused value is never
    /// echoed whole, or an 80,000-character "phone" would make the answer as large as the upload.
    init(row: Int, phone: String, reason: String) {
      self.row = row
      let count = phone.unicodeScalars.count
      self.phone =
        count <= Self.maxEcho
        ? phone
        : String(String.UnicodeScalarView(phone.unicodeScalars.prefix(Self.maxEcho))) + "… (\(count) characters, cut)"
      self.reason = reason
    }

    static let maxEcho = 64
  }

  var accepted: Int
  var rejected: [Rejected]

  init(_ accepted: Int, _ rejected: [RejectedRecipient]) {
    self.accepted = accepted
    self.rejected = rejected.map { Rejected(row: $0.row, phone: $0.phone, reason: "\($0.reason)") }
  }
}

struct Created: Encodable {
  var id: Int64
  var name: String
  var status: CampaignStatus
  var recipients: Tally
}

struct Added: Encodable {
  var recipients: Tally
}

/// A campaign as its tenant sees it.
struct CampaignView: Encodable {
  struct Pace: Encodable {
    var minIntervalMs: Int
    var maxIntervalMs: Int
  }

  var id: Int64
  var name: String
  var template: String
  @ExplicitNull var mediaUrl: String?
  var status: CampaignStatus
  @ExplicitNull var pauseReason: String?
  var chipIds: [Int64]
  var pace: Pace
  @ExplicitNull var startAt: String?
  @ExplicitNull var startedAt: String?
  @ExplicitNull var completedAt: String?
  var createdAt: String
  var counts: CampaignCounts
  /// Delivered (or read) over sent, and read over sent, to four places; null before anything is sent.
  @ExplicitNull var deliveryRate: Double?
  @ExplicitNull var readRate: Double?

  init(_ c: CampaignRecord, chips: [Int64], counts: CampaignCounts) {
    func time(_ date: Date?) -> String? { date.map { JSONResponse.time($0) } }
    id = c.id
    name = c.name
    template = c.template
    mediaUrl = c.mediaUrl
    status = c.status
    pauseReason = c.pauseReason
    chipIds = chips
    pace = Pace(minIntervalMs: c.minIntervalMs, maxIntervalMs: c.maxIntervalMs)
    startAt = time(c.startAt)
    startedAt = time(c.startedAt)
    completedAt = time(c.completedAt)
    createdAt = time(c.createdAt) ?? ""
    self.counts = counts
    func rate(_ part: Int) -> Double? {
      counts.sent == 0 ? nil : (Double(part) / Double(counts.sent) * 10_000).rounded() / 10_000
    }
    deliveryRate = rate(counts.delivered)
    readRate = rate(counts.read)
  }
}
