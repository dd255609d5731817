import ArgumentParser
import Foundation
import Postgres
import Store

struct TenantCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tenant", abstract: "Create tenants, list them, move them between plans.",
    subcommands: [Create.self, SetPlan.self, List.self])

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
      commandName: "set-plan", abstract: "Move a tenant to another plan; its limits change from the next request.")
    @OptionGroup var global: GlobalOptions
    @Argument var name: String
    @Argument var plan: String

    func run() async throws {
      try await global.withStore { store in
        let tenant = try await store.setPlan(tenant: name, plan: plan)
        print("tenant \(tenant.name) is now on plan \(tenant.plan)")
      }
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
                  name: $0.name, plan: $0.plan, timezone: $0.timezone, status: $0.status,
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
            rows: tenants.map { [$0.name, $0.plan, $0.status, $0.timezone, "\($0.windowStart)-\($0.windowEnd)"] }))
      }
    }
  }
}
