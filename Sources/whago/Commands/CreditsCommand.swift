import ArgumentParser
import BillingStore
import CampaignJobs
import CampaignStore
import Foundation
import JobContracts
import JobQueue
import Store
import Wire

struct CreditsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "credits", abstract: "Show a tenant's credits and the packs it bought, add a pack.",
    subcommands: [Show.self, Add.self, Purchases.self])

  struct Purchases: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "A tenant's credit pack purchases, newest first.",
      discussion: """
        Each with its status (pending, awaiting_payment, paid, failed, expired, refunded,
        charged_back). A refunded or charged-back pack shows the credits removed and those spent
        before it, which are not clawed back: settle those with the tenant.
        """)
    @OptionGroup var global: GlobalOptions
    @Argument var tenant: String
    @Option(help: "How many to show.") var limit = 50
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
      try await global.withStore { store in
        let id = try await store.tenant(named: tenant).id
        let purchases = try await store.creditPurchases(tenantID: id, limit: max(1, min(limit, 1000)))
        if json {
          print(String(decoding: try WireJSON.encoder.encode(purchases), as: UTF8.self))
          return
        }
        if purchases.isEmpty { print("\(tenant) bought no credit packs") }
        let time = ISO8601DateFormatter()
        for p in purchases {
          var line =
            "#\(p.id) \(p.pack) \(p.credits) credits R$ \(p.amountCents / 100),\(String(format: "%02d", p.amountCents % 100)) "
            + "\(p.gateway) \(p.method) \(p.status) created \(time.string(from: p.createdAt))"
          if let paid = p.paidAt { line += " paid \(time.string(from: paid))" }
          if let removed = p.creditsRemoved, let spent = p.creditsSpent {
            line += " removed \(removed), spent before \(spent)"
          }
          if let failure = p.failure { line += " (\(failure))" }
          print(line)
        }
      }
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A tenant's plan credits this period and its packs.")
    @OptionGroup var global: GlobalOptions
    @Argument var tenant: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
      try await global.withStore { store in
        let id = try await store.tenant(named: tenant).id
        print(CreditsCommand.describe(try await store.creditBalance(tenantID: id), json: json))
      }
    }
  }

  struct Add: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Add a credit pack (never expires, spent after the plan's credits).",
      discussion: """
        Campaigns that paused at zero credits resume at once. --ref names the purchase (order or
        payment id) so that running the command twice for one purchase grants it once.
        """)
    @OptionGroup var global: GlobalOptions
    @Argument var tenant: String
    @Argument(help: "Credits in the pack (1 credit = 1 message WAHA accepted).") var credits: Int
    @Option(help: "The purchase this pack comes from; a reference is granted once.") var ref: String?
    @Option(help: "What the tenant paid, in BRL cents.") var priceCents = 0

    func run() async throws {
      let launcher = CampaignLauncher(broker: Broker(redis: try global.client()), catalog: try global.catalog())
      try await global.withStore { store in
        let (balance, resumed) = try await store.addCreditPack(
          tenant: tenant, credits: credits, priceCents: priceCents, reference: ref)
        try await launcher.launch(resumed.map(\.launch))
        print("added \(credits) credits to \(tenant); \(CreditsCommand.describe(balance, json: false))")
        if !resumed.isEmpty {
          print("resumed campaign(s) \(resumed.map { String($0.campaignID) }.joined(separator: ", "))")
        }
      }
    }
  }

  static func describe(_ balance: CreditBalance, json: Bool) -> String {
    if json {
      struct Row: Encodable {
        @ExplicitNull var planCreditsLeft: Int?
        @ExplicitNull var planCreditsGranted: Int?
        var packCreditsLeft: Int
        @ExplicitNull var total: Int?
      }
      return
        (try? JSONOutput.encode(
          Row(
            planCreditsLeft: balance.planCreditsLeft, planCreditsGranted: balance.planCreditsGranted,
            packCreditsLeft: balance.packCreditsLeft, total: balance.total))) ?? "{}"
    }
    guard let left = balance.planCreditsLeft, let total = balance.total else {
      return "plan credits: unlimited; packs: \(balance.packCreditsLeft)"
    }
    return
      "plan credits: \(left) of \(balance.planCreditsGranted ?? left); packs: \(balance.packCreditsLeft); total: \(total)"
  }
}
