import ArgumentParser
import CampaignStore
import Foundation
import Postgres
import Store

struct TenantCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tenant", abstract: "Create tenants, list them, move them between plans.",
    subcommands: [Create.self, SetPlan.self, SetWindow.self, List.self, Erase.self])

  struct Erase: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Erase a departed tenant's personal data (LGPD); invoices, payments and the credit ledger stay.",
      discussion:
        "Stops its campaigns, removes every recipient's number, variables and texts, its opt-outs, the numbers in its events, revokes its API keys, deletes its webhook endpoints and its chips' WAHA keys. Safe to run again."
    )
    @OptionGroup var global: GlobalOptions
    @Argument var name: String
    @Flag(help: "Erase: without it, nothing changes.") var yes = false

    func run() async throws {
      guard yes else { throw ValidationError("erasing cannot be undone: run again with --yes") }
      try await global.withStore { store in
        let erasure = try await store.eraseTenant(named: name)
        print(try JSONOutput.encode(erasure))
        if erasure.messagesInFlight > 0 {
          FileHandle.standardError.write(
            Data("\(erasure.messagesInFlight) messages were being sent: run this again in a minute\n".utf8))
        }
      }
    }
  }

  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a tenant on a plan.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Lowercase letters, digits, '_' and '-'.") var name: String
    @Option(help: "Its plan (see `whago plan show`).") var plan: String
    @Option(help: "IANA timezone of its sending window.") var timezone = "America/Sao_Paulo"

    func run() async throws {
      try await global.withStore { store in
        let tenant = try await store.createTenant(name: name, plan: plan, timezone: timezone)
        print("created tenant \(tenant.name) on plan \(tenant.plan) (\(tenant.timezone))")
      }
    }
  }

  struct SetPlan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "set-plan",
      abstract:
        "Move a tenant to another plan; its limits change from the next request, and a subscriber renews on it.")
    @OptionGroup var global: GlobalOptions
    @Argument var name: String
    @Argument var plan: String

    func run() async throws {
      try await global.withStore { store in
        let change = try await store.setPlan(tenant: name, plan: plan)
        let billing =
          change.subscriptionID.map { "; subscription \($0) renews on it from its next period" }
          ?? " (no subscription: not billed)"
        print("tenant \(change.tenant.name) is now on plan \(change.tenant.plan)\(billing)")
      }
    }
  }

  struct SetWindow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "set-window",
      abstract: "Set the hours and days a tenant's campaigns may send in, on its own clock.",
      discussion:
        "Example: whago tenant set-window acme --start 08:00 --end 20:00 --days 1-6 --timezone America/Sao_Paulo")
    @OptionGroup var global: GlobalOptions
    @Argument var name: String
    @Option(help: "Opening time, HH:MM.") var start = "08:00"
    @Option(help: "Closing time, HH:MM (24:00 for midnight).") var end = "20:00"
    @Option(help: "ISO weekdays, 1 = Monday: a list (1,2,3) or a range (1-6).") var days = "1-6"
    @Option(help: "IANA timezone (default: unchanged).") var timezone: String?

    func run() async throws {
      guard let parsed = Self.parseDays(days) else {
        throw ValidationError("--days takes ISO weekdays 1 (Monday) to 7: '1-6' or '1,3,5'")
      }
      try await global.withStore { store in
        let tenant = try await store.setWindow(
          tenant: name, start: start, end: end, days: parsed, timezone: timezone)
        print(
          "tenant \(tenant.name) sends \(tenant.windowStart)-\(tenant.windowEnd) on days "
            + "\(tenant.windowDays.map(String.init).joined(separator: ",")) (\(tenant.timezone))")
      }
    }

    static func parseDays(_ text: String) -> [Int]? {
      var days = Set<Int>()
      for part in text.split(separator: ",") {
        let bounds = part.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard (1...2).contains(bounds.count), let low = bounds[0], let high = bounds.last ?? nil, low <= high,
          (1...7).contains(low), (1...7).contains(high)
        else { return nil }
        days.formUnion(low...high)
      }
      return days.isEmpty ? nil : days.sorted()
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List tenants.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
      try await global.withStore { store in
        let tenants = try await store.tenants()
        if json {
          struct Row: Encodable {
            var name, plan, timezone, status, window: String
          }
          print(
            try JSONOutput.encode(
              tenants.map {
                Row(
                  name: $0.name, plan: $0.plan, timezone: $0.timezone, status: $0.status.rawValue,
                  window: "\($0.windowStart)-\($0.windowEnd)")
              }))
          return
        }
        if tenants.isEmpty {
          print("no tenants yet: whago tenant create NAME --plan free")
          return
        }
        print(
          Table.render(
            header: ["TENANT", "PLAN", "STATUS", "TIMEZONE", "WINDOW"],
            rows: tenants.map {
              [$0.name, $0.plan, $0.status.rawValue, $0.timezone, "\($0.windowStart)-\($0.windowEnd)"]
            }))
      }
    }
  }
}
