import CampaignStore
import Campaigns
import Foundation
import Store
import Wire

/// A campaign as a tenant asks for it (`POST /v1/campaigns`), read and checked against the
/// tenant's plan before anything is stored. Pure: the chips' ownership and the active-campaign
/// limit are the store's to check, since they need the database.
package struct CampaignDraft: Sendable {
  package var name: String
  package var template: MessageTemplate
  package var mediaURL: String?
  package var chipIDs: [Int64]
  package var minIntervalMs: Int
  package var maxIntervalMs: Int
  /// nil: the campaign never rests.
  package var rest: CampaignRest?
  package var startAt: Date?
  package var recipients: [CampaignRecipient]
  /// Rows not taken, each with its reason: reported to the tenant, never dropped silently.
  package var rejected: [RejectedRecipient]

  static let fields: Set<String> = ["name", "template", "media_url", "chip_ids", "recipients", "pace", "start_at"]
  static let paceFields: Set<String> = [
    "min_interval_ms", "max_interval_ms", "rest_every", "rest_min_ms", "rest_max_ms",
  ]
  /// A day: the longest wait between two sends, or of a rest.
  static let maxIntervalMs: Int64 = 86_400_000
  /// Recipients one request may carry.
  static let maxRecipients = 100_000

  /// The draft in `body`, or the 422 that lists everything wrong with it at once.
  package static func parse(_ body: JSONValue, plan: Plan) throws(Problem) -> CampaignDraft {
    let reader = RequestReader(body, fields: fields, noun: "a campaign")
    let draft = read(reader, plan: plan)
    try reader.finish()
    guard let draft else { throw Problem.invalid(reader.problems) }
    return draft
  }

  private static func read(_ body: RequestReader, plan: Plan) -> CampaignDraft? {
    let name = body.string("name", max: 200)
    var template: MessageTemplate?
    if let source = body.string(
      "template", max: 4096, controls: .allowedButNUL, expected: "a template, e.g. \"Oi {{nome}}!\"")
    {
      do {
        template = try MessageTemplate(source)
      } catch {
        body.fail("template", "\(error)")
      }
    }
    let mediaURL = body.string("media_url", required: false, max: 2000) { text in
      guard let url = URLComponents(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
        url.host?.isEmpty == false
      else { return "must be an http(s) URL of the image or file to send" }
      return nil
    }
    let chipIDs = body.ids("chip_ids", count: 1...100, expected: "1 to 100 chip ids to send from (see GET /v1/chips)")

    // Without a pace, a person's: 30 to 60 s (never under the plan's gap), resting now and then.
    var minInterval = max(30_000, plan.minSendGapMs)
    var maxInterval = max(60_000, minInterval)
    var rest: CampaignRest? = .human
    if let pace = body.object("pace", fields: paceFields, noun: "a pace") {
      let lo = pace.int("min_interval_ms", required: true, in: 0...maxIntervalMs)
      let hi = pace.int("max_interval_ms", required: true, in: 0...maxIntervalMs)
      if let lo, let hi {
        if hi < lo { pace.fail("max_interval_ms", "must be at least min_interval_ms (\(lo))") }
        if lo < plan.minSendGapMs {
          pace.fail(
            "min_interval_ms", "plan '\(plan.name)' sends at most one message per chip every \(plan.minSendGapMs) ms")
        }
        minInterval = Int(lo)
        maxInterval = Int(hi)
      }
      // A pace set by hand rests only if it says so.
      rest = readRest(pace)
    }
    var startAt: Date?
    if let date = body.date("start_at") {
      if plan.scheduling {
        startAt = date
      } else {
        body.fail("start_at", "plan '\(plan.name)' does not include scheduled campaigns; start it instead")
      }
    }
    var recipients: [CampaignRecipient] = []
    var rejected: [RejectedRecipient] = []
    if let rows = body["recipients"], let template {
      do {
        let list = try RecipientList(
          rows: try recipientRows(rows), template: template,
          limits: RecipientLimits(maxRows: maxRecipients, contactsPerList: plan.contactsPerList))
        recipients = list.accepted.map { CampaignRecipient(phone: $0.phone.e164, variables: $0.variables) }
        rejected = list.rejected
      } catch let problem as Problem {
        body.fail(problem.errors)
      } catch {
        body.fail("recipients", "\(error)")
      }
    }
    guard !body.hasErrors, let name, let template, let chipIDs else { return nil }
    return CampaignDraft(
      name: name, template: template, mediaURL: mediaURL, chipIDs: chipIDs, minIntervalMs: minInterval,
      maxIntervalMs: maxInterval, rest: rest, startAt: startAt, recipients: recipients, rejected: rejected)
  }

  /// `rest_every`, `rest_min_ms` and `rest_max_ms` come together (or `rest_every: null` alone,
  /// which says "never rest"); nil when the pace does not rest.
  private static func readRest(_ pace: RequestReader) -> CampaignRest? {
    switch (pace["rest_every"], pace["rest_min_ms"], pace["rest_max_ms"]) {
    case (nil, nil, nil), (.null?, nil, nil): return nil
    case (_?, _?, _?):
      let every = pace.int("rest_every", in: 1...Int64(Int32.max))
      let lo = pace.int("rest_min_ms", in: 0...maxIntervalMs)
      let hi = pace.int("rest_max_ms", in: 0...maxIntervalMs)
      guard let every, let lo, let hi else { return nil }
      guard hi >= lo else {
        pace.fail("rest_max_ms", "must be at least rest_min_ms (\(lo))")
        return nil
      }
      return CampaignRest(every: Int(every), minMs: Int(lo), maxMs: Int(hi))
    default:
      pace.fail("rest_every", "a rest needs all of rest_every, rest_min_ms and rest_max_ms")
      return nil
    }
  }

  /// JSON rows `[{phone, vars}]`, or a problem naming the row that is not one.
  static func recipientRows(_ value: JSONValue) throws -> [RecipientRow] {
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
