import CampaignStore
import Campaigns
import Foundation
import Hummingbird
import Store

/// `/v1/contacts/{phone}`: a data subject's rights under LGPD (Art. 18), exercised through the
/// tenant that holds the data. GET answers everything held about the number (confirmation and
/// access, an empty record when nothing is); DELETE erases it from every campaign and keeps only
/// a hash so it is never messaged again. Both spellings of a Brazilian mobile are one number.
struct ContactRoutes {
  let store: Store

  func register(on group: RouterGroup<EnqueuerContext>) {
    group.get("contacts/:phone") { _, context in try await export(context: context) }
    group.delete("contacts/:phone") { _, context in try await erase(context: context) }
  }

  func export(context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let record = try await store.contactRecord(tenantID: access.tenant.id, phones: try Self.spellings(context))
    return try JSONResponse.make(.ok, record)
  }

  func erase(context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    let erasure = try await store.eraseContact(tenantID: access.tenant.id, phones: try Self.spellings(context))
    return try JSONResponse.make(.ok, erasure)
  }

  /// The number's stored spellings, the one dialled today first; a path that is no phone number
  /// is no contact (404), as elsewhere for ids that cannot exist.
  static func spellings(_ context: EnqueuerContext) throws -> [String] {
    let text = context.parameters.get("phone").map { $0.removingPercentEncoding ?? $0 } ?? ""
    do {
      return try PhoneNumber(parsing: text).storedSpellings
    } catch {
      throw Problem.notFound("no contact '\(text.prefix(40))': \(error)")
    }
  }
}
