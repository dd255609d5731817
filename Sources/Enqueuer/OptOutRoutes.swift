import CampaignStore
import Campaigns
import Foundation
import HTTPTypes
import Hummingbird
import Store
import Wire

/// `/v1/opt-outs`: the numbers a tenant's campaigns never message again. A tenant key records
/// them with source `api`, a service key (an operator at WHAGO) with source `operator`; replies
/// (STOP, SAIR, ...) arrive through WAHA's webhook with source `reply`. Numbers are kept in their
/// ninth-digit form, as replies record them, so either spelling of a Brazilian mobile is one number.
struct OptOutRoutes {
  let store: Store
  let limits: EnqueuerServer.Limits

  /// The most rows one CSV import takes.
  static let maxImportRows = 100_000

  func register(on group: RouterGroup<EnqueuerContext>) {
    group.get("opt-outs") { request, context in try await list(request, context: context) }
    group.post("opt-outs") { request, context in try await add(request, context: context) }
    group.delete("opt-outs/:phone") { _, context in try await remove(context: context) }
  }

  struct Page: Encodable {
    var optOuts: [OptOutRecord]
    var next: String
  }

  struct Imported: Encodable {
    var added: Int
    /// Numbers that had opted out already; their first record stands.
    var already: Int
    var rejected: [Tally.Rejected]
  }

  /// `GET /v1/opt-outs?phone=&after=&limit=`.
  func list(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let query = request.uri.queryParameters
    var problems: [String] = []
    let (after, limit) = PageQuery.read(query, problems: &problems)
    var phone: String?
    if let text = query["phone"] {
      // A `+` after the first character is a space, as HTML forms encode it: `(11)+98888-7777`.
      let form = text.first.map { String($0) + text.dropFirst().replacingOccurrences(of: "+", with: " ") } ?? ""
      do {
        phone = try Self.number(form)
      } catch {
        problems.append("phone: \(error)")
      }
    }
    guard problems.isEmpty else { throw PageQuery.invalid(problems) }
    let page = try await store.optOuts(tenantID: access.tenant.id, phone: phone, after: after, limit: limit)
    return try JSONResponse.make(.ok, Page(optOuts: page, next: String(page.last?.id ?? after)))
  }

  /// `POST /v1/opt-outs`: `{phone, reason}` adds one (201; 200 with the first record when it was
  /// there already); a `text/csv` upload with a `phone` column, and optionally `reason`, imports
  /// many, every refused row reported with its reason.
  func add(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let source: OptOutSource = context.byService ? .operator : .api
    if request.headers[.contentType]?.lowercased().hasPrefix("text/csv") == true {
      let body = try await RequestReader.bytes(request, limit: limits.maxBatchBody)
      let list: RecipientList
      do {
        list = try RecipientList(
          csv: String(buffer: body), template: nil, limits: RecipientLimits(maxRows: Self.maxImportRows))
      } catch {
        throw Problem.invalid([.init(pointer: "", detail: "\(error)")])
      }
      var rejected = list.rejected.map { Tally.Rejected(row: $0.row, phone: $0.phone, reason: "\($0.reason)") }
      var entries: [OptOutEntry] = []
      for recipient in list.accepted {
        let reason = recipient.variables["reason"]
        if let reason, reason.unicodeScalars.count > 200 || reason.unicodeScalars.contains("\u{0}") {
          rejected.append(
            .init(row: recipient.row, phone: recipient.phone.e164, reason: "reason: at most 200 characters, no NUL"))
          continue
        }
        entries.append(OptOutEntry(phone: recipient.phone.withNinthDigit.e164, reason: reason))
      }
      let added = try await store.addOptOuts(tenantID: access.tenant.id, entries, source: source)
      return try JSONResponse.make(
        .ok,
        Imported(
          added: added.count, already: entries.count - added.count,
          rejected: rejected.sorted { $0.row < $1.row }))
    }
    let body = try await RequestReader.body(
      request, limit: limits.maxBody, fields: ["phone", "reason"], noun: "an opt-out")
    let phone = body.string("phone", max: 40, expected: "a phone number, such as +5511999998888") { text in
      do {
        _ = try Self.number(text)
        return nil
      } catch {
        return "\(error)"
      }
    }
    let reason = body.string("reason", required: false, max: 200)
    try body.finish()
    guard let phone else { throw Problem.invalid(body.problems) }
    let number = try Self.number(phone)
    if let added = try await store.addOptOuts(
      tenantID: access.tenant.id, [OptOutEntry(phone: number, reason: reason)], source: source
    ).first {
      return try JSONResponse.make(.created, added)
    }
    guard let existing = try await store.optOuts(tenantID: access.tenant.id, phone: number, after: 0, limit: 1).first
    else {
      // Removed between the two statements: ask again.
      throw Problem(.conflict, "opt-out-changed", "The opt-out changed meanwhile", detail: "send the request again")
    }
    return try JSONResponse.make(.ok, existing)
  }

  /// `DELETE /v1/opt-outs/{phone}`: campaigns may message the number again.
  func remove(context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let text = context.parameters.get("phone").map { $0.removingPercentEncoding ?? $0 } ?? ""
    let phone: String
    do {
      phone = try Self.number(text)
    } catch {
      throw Problem.notFound("no opt-out for '\(text.prefix(40))': \(error)")
    }
    guard try await store.removeOptOut(tenantID: access.tenant.id, phone: phone) else {
      throw Problem.notFound("\(phone) has not opted out")
    }
    return Response(status: .noContent)
  }

  /// The stored form of a number as the tenant writes it: E.164 with the ninth digit.
  static func number(_ text: String) throws -> String {
    try PhoneNumber(parsing: text).withNinthDigit.e164
  }
}
