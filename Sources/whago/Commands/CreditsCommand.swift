import ArgumentParser
import CampaignJobs
import CampaignStore
import Foundation
import JobContracts
import JobQueue
import Store
import Wire

struct CreditsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "credits", abstract: "Show a tenant's credits, add a bought pack.",
    subcommands: [Show.self, Add.self])

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
