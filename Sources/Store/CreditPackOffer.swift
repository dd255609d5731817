import Foundation
import Postgres
import Wire

/// A credit pack on sale (`1k`, `5k`, …): its credits never expire and are spent after the plan's.
public struct CreditPackOffer: Sendable, Equatable, Codable {
  public var id: String
  public var credits: Int
  public var priceCents: Int

  public init(id: String, credits: Int, priceCents: Int) {
    self.id = id
    self.credits = credits
    self.priceCents = priceCents
  }
}

extension Store {
  /// The packs on sale, cheapest first.
  public func creditPackOffers() async throws -> [CreditPackOffer] {
    try await pool.query("SELECT id, credits, price_cents FROM credit_pack_offers ORDER BY price_cents, id")
      .decode(CreditPackOffer.self)
  }

  /// Inserts the default packs that are missing; packs an operator changed are left as they are.
  @discardableResult
  public func seed(creditPacks: [CreditPackOffer]) async throws -> [String] {
    try await pool.transaction { connection in
      try creditPacks.filter { pack in
        try connection.query(
          "INSERT INTO credit_pack_offers (id, credits, price_cents) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
          [pack.id, pack.credits, pack.priceCents]
        ).affected > 0
      }.map(\.id)
    }
  }
}

/// The default packs in jobs/plans.json (`credit_packs`), seeded by `whago migrate`.
public enum DefaultCreditPacks {
  public static func load(directory: String) throws -> [CreditPackOffer] {
    try parse(try DefaultPlans.file(directory: directory))
  }

  static func parse(_ data: Data) throws -> [CreditPackOffer] {
    struct File: Decodable { var creditPacks: [String: Pack]? }
    struct Pack: Decodable {
      var credits: Int
      var priceCents: Int
    }
    let file: File
    do {
      file = try WireJSON.decoder.decode(File.self, from: data)
    } catch {
      throw PlanError.badDefaults("credit_packs does not decode: \(error)")
    }
    return try (file.creditPacks ?? [:]).sorted { $0.key < $1.key }.map { id, pack in
      guard pack.credits > 0, pack.priceCents > 0 else {
        throw PlanError.badDefaults("credit pack '\(id)' needs positive credits and price_cents")
      }
      return CreditPackOffer(id: id, credits: pack.credits, priceCents: pack.priceCents)
    }
  }
}
