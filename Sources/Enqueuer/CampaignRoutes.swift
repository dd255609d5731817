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

  static let fields: Set<String> = ["name", "template", "media_url", "chip_ids", "recipients", "pace", "start_at"]

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
    let value = try JSONValue.body(try await JobRoutes.body(request, limit: limits.maxBatchBody).readableBytesView)
    guard case .object(let body) = value else {
      throw Problem.invalid([.init(pointer: "", detail: "the body is a JSON object, got \(value.kind)")])
    }
    var errors: [Problem.FieldError] = []
    func fail(_ pointer: String, _ detail: String) { errors.append(.init(pointer: pointer, detail: detail)) }
    for name in body.keys.sorted() where !Self.fields.contains(name) {
      fail(
        "/\(JSONPointer.escape(name))", "unknown field; a campaign has \(Self.fields.sorted().joined(separator: ", "))")
    }
    var name: String?
    switch body["name"] {
    case .string(let s)?
    where !s.isEmpty && s.unicodeScalars.count <= 200
      && !s.unicodeScalars.contains(where: {
        $0.properties.generalCategory == .control
      }):
      name = s
    default: fail("/name", "a name of 1 to 200 characters is required")
    }
    var template: MessageTemplate?
    switch body["template"] {
    case .string(let s)?:
      if s.unicodeScalars.contains(where: { $0 == "\u{0}" }) || s.unicodeScalars.count > 4096 {
        fail("/template", "must have at most 4,096 characters and no NUL")
      } else {
        do {
          template = try MessageTemplate(s)
        } catch {
          fail("/template", "\(error)")
        }
      }
    default: fail("/template", "a template is required, e.g. \"Oi {{nome}}!\"")
    }
    var mediaURL: String?
    if let media = body["media_url"] {
      if case .string(let s) = media, let url = URLComponents(string: s), ["http", "https"].contains(url.scheme ?? ""),
        url.host?.isEmpty == false, s.count <= 2000
      {
        mediaURL = s
      } else {
        fail("/media_url", "must be an http(s) URL of the image or file to send")
      }
    }
    var chipIDs: [Int64] = []
    if case .array(let items)? = body["chip_ids"], !items.isEmpty, items.count <= 100 {
      for (i, item) in items.enumerated() {
        if case .int(let id) = item { chipIDs.append(id) } else { fail("/chip_ids/\(i)", "must be a chip id") }
      }
    } else {
      fail("/chip_ids", "1 to 100 chip ids to send from (see GET /v1/chips)")
    }
    let plan = access.plan
    var minInterval = max(30_000, plan.minSendGapMs)
    var maxInterval = max(60_000, minInterval)
    var rest: CampaignRest? = .human
    if let pace = body["pace"] {
      if case .object(let p) = pace, case .int(let lo)? = p["min_interval_ms"],
        case .int(let hi)? = p["max_interval_ms"],
        lo >= 0, hi >= lo, hi <= 86_400_000,
        Set(p.keys).isSubset(of: ["min_interval_ms", "max_interval_ms", "rest_every", "rest_min_ms", "rest_max_ms"])
      {
        // A pace set by hand rests only if it says so.
        rest = nil
        switch (p["rest_every"], p["rest_min_ms"], p["rest_max_ms"]) {
        case (nil, nil, nil), (.null?, nil, nil): break
        case (.int(let every)?, .int(let restLo)?, .int(let restHi)?)
        where every >= 1 && restLo >= 0 && restHi >= restLo && restHi <= 86_400_000:
          rest = CampaignRest(every: Int(every), minMs: Int(restLo), maxMs: Int(restHi))
        default:
          fail("/pace/rest_every", "a rest needs rest_every ≥ 1 and 0 ≤ rest_min_ms ≤ rest_max_ms ≤ 86,400,000")
        }
        if lo < plan.minSendGapMs {
          fail(
            "/pace/min_interval_ms",
            "plan '\(plan.name)' sends at most one message per chip every \(plan.minSendGapMs) ms")
        }
        minInterval = Int(lo)
        maxInterval = Int(hi)
      } else {
        fail(
          "/pace",
          "{min_interval_ms, max_interval_ms[, rest_every, rest_min_ms, rest_max_ms]}: whole milliseconds, 0 ≤ min ≤ max ≤ 86,400,000"
        )
      }
    }
    var startAt: Date?
    if let start = body["start_at"] {
      if case .string(let s) = start, let date = JobSubmission.parseDate(s) {
        if plan.scheduling {
          startAt = date
        } else {
          fail("/start_at", "plan '\(plan.name)' does not include scheduled campaigns; start it instead")
        }
      } else {
        fail("/start_at", "must be an RFC 3339 time with a zone")
      }
    }
    var accepted: [CampaignRecipient] = []
    var rejected: [RejectedRecipient] = []
    if let recipients = body["recipients"], let template {
      do {
        let list = try RecipientList(
          rows: try Self.rows(recipients), template: template, limits: recipientLimits(plan))
        accepted = list.accepted.map { CampaignRecipient(phone: $0.phone.e164, variables: $0.variables) }
        rejected = list.rejected
      } catch let problem as Problem {
        errors += problem.errors
      } catch {
        fail("/recipients", "\(error)")
      }
    }
    guard errors.isEmpty, let name, let template else { throw Problem.invalid(errors) }
    let id: Int64
    do {
      id = try await store.createCampaign(
        tenantID: access.tenant.id, name: name, template: template.source, mediaURL: mediaURL, chipIDs: chipIDs,
        minIntervalMs: minInterval, maxIntervalMs: maxInterval, rest: rest, startAt: startAt, recipients: accepted)
    } catch let error as CampaignError {
      throw Problem.invalid([.init(pointer: "/chip_ids", detail: "\(error)")])
    }
    var response = try JobRoutes.json(
      .created, Created(id: id, name: name, status: "draft", recipients: Tally(accepted.count, rejected)))
    response.headers[.location] = "/v1/campaigns/\(id)"
    return response
  }

  func addRecipients(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let id = try campaignID(context)
    guard let (campaign, _, _) = try await store.campaign(tenantID: access.tenant.id, id: id) else {
      throw Problem.notFound("no campaign \(id)")
    }
    let template = try? MessageTemplate(campaign.template)
    let listed = Set(
      try await store.campaignPhones(tenantID: access.tenant.id, campaignID: id).compactMap {
        try? PhoneNumber(parsing: $0)
      })
    let body = try await JobRoutes.body(request, limit: limits.maxBatchBody)
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
          rows: try Self.rows(rows), template: template, limits: recipientLimits(access.plan), alreadyListed: listed)
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
    return try JobRoutes.json(.ok, Added(recipients: Tally(recipients.count, list.rejected)))
  }

  func show(context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let id = try campaignID(context)
    guard let (campaign, chips, counts) = try await store.campaign(tenantID: access.tenant.id, id: id) else {
      throw Problem.notFound("no campaign \(id)")
    }
    return try JobRoutes.json(.ok, CampaignView(campaign, chips: chips, counts: counts))
  }

  /// start, pause, resume, cancel. The state change commits first, then the jobs are enqueued; if
  /// the enqueue fails the answer is 503 and asking again (start or resume) repairs it.
  func apply(_ command: CampaignCommand, context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let id = try campaignID(context)
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
    return try JobRoutes.json(.ok, CampaignView(campaign, chips: chips, counts: counts))
  }

  private func campaignID(_ context: EnqueuerContext) throws(Problem) -> Int64 {
    guard let id = context.parameters.get("id").flatMap({ Int64($0) }), id > 0 else {
      throw Problem.notFound("no campaign with that id")
    }
    return id
  }

  private func recipientLimits(_ plan: Plan) -> RecipientLimits {
    RecipientLimits(maxRows: 100_000, contactsPerList: plan.contactsPerList)
  }

  /// JSON rows `[{phone, vars}]`, or a problem naming the row that is not one.
  static func rows(_ value: JSONValue) throws -> [RecipientRow] {
    guard case .array(let items) = value else {
      throw Problem.invalid([.init(pointer: "/recipients", detail: "an array of {phone, vars}")])
    }
    let decoder = JSONDecoder()
    return try items.enumerated().map { index, item in
      guard case .object = item, let row = try? decoder.decode(RecipientRow.self, from: Data(item.text().utf8)) else {
        throw Problem.invalid([
          .init(pointer: "/recipients/\(index)", detail: "each recipient is {\"phone\": …, \"vars\": {…}}")
        ])
      }
      return row
    }
  }
}

struct Tally: Encodable {
  struct Rejected: Encodable {
    var row: Int
    var phone: String
    var reason: String
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
  var status: String
  var recipients: Tally
}

struct Added: Encodable {
  var recipients: Tally
}

/// A campaign as its tenant sees it.
struct CampaignView: Encodable {
  struct Pace: Encodable {
    var min_interval_ms: Int
    var max_interval_ms: Int
  }

  var id: Int64
  var name: String
  var template: String
  var media_url: String?
  var status: String
  var pause_reason: String?
  var chip_ids: [Int64]
  var pace: Pace
  var start_at: String?
  var started_at: String?
  var completed_at: String?
  var created_at: String
  var counts: CampaignCounts

  init(_ c: CampaignRecord, chips: [Int64], counts: CampaignCounts) {
    func time(_ date: Date?) -> String? { date.map { JobView.time(Int64($0.timeIntervalSince1970 * 1000)) } }
    id = c.id
    name = c.name
    template = c.template
    media_url = c.mediaUrl
    status = c.status
    pause_reason = c.pauseReason
    chip_ids = chips
    pace = Pace(min_interval_ms: c.minIntervalMs, max_interval_ms: c.maxIntervalMs)
    start_at = time(c.startAt)
    started_at = time(c.startedAt)
    completed_at = time(c.completedAt)
    created_at = time(c.createdAt) ?? ""
    self.counts = counts
  }

  func encode(to encoder: any Encoder) throws {
    enum Key: String, CodingKey {
      case id, name, template, media_url, status, pause_reason, chip_ids, pace, start_at, started_at, completed_at
      case created_at, counts
    }
    var c = encoder.container(keyedBy: Key.self)
    try c.encode(id, forKey: .id)
    try c.encode(name, forKey: .name)
    try c.encode(template, forKey: .template)
    try c.encode(media_url, forKey: .media_url)
    try c.encode(status, forKey: .status)
    try c.encode(pause_reason, forKey: .pause_reason)
    try c.encode(chip_ids, forKey: .chip_ids)
    try c.encode(pace, forKey: .pace)
    try c.encode(start_at, forKey: .start_at)
    try c.encode(started_at, forKey: .started_at)
    try c.encode(completed_at, forKey: .completed_at)
    try c.encode(created_at, forKey: .created_at)
    try c.encode(counts, forKey: .counts)
  }
}
