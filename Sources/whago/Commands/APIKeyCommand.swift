import ArgumentParser
import Foundation
import Postgres
import Store

struct APIKeyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "apikey", abstract: "Create, list and revoke API keys for `whago serve`.",
    subcommands: [Create.self, List.self, Revoke.self])

  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create a key and print it once; only its hash is kept.",
      discussion: """
        A tenant key acts as its tenant, on plans with API access. A service key (--service) is for
        WHAGO's backend and acts for the tenant named in each request's Whago-Tenant header.
        """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The tenant the key acts as.") var tenant: String?
    @Flag(help: "A service key for WHAGO's backend.") var service = false
    @Flag(help: "An admin key: opens the dashboard at /dashboard.") var admin = false
    @Option(help: "A note saying what the key is for.") var label: String?
    @Flag(help: "Print only the key (for scripts).") var quiet = false

    func validate() throws {
      if [service, admin, tenant != nil].filter({ $0 }).count != 1 {
        throw ValidationError("name a TENANT, or pass --service or --admin (exactly one)")
      }
    }

    func run() async throws {
      try await global.withStore { store in
        let issued = try await store.createAPIKey(tenant: tenant, admin: admin, label: label)
        if quiet {
          print(issued.key)
          return
        }
        let who =
          issued.record.tenant.map { "tenant \($0)" }
          ?? (admin ? "operators (opens /dashboard)" : "service (acts for the Whago-Tenant header)")
        print("created \(issued.record.kind.rawValue) key \(issued.record.display) for \(who)")
        print("key (shown once, store it now): \(issued.key)")
      }
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List keys (never the keys themselves).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this tenant's keys.") var tenant: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
      try await global.withStore { store in
        let keys = try await store.apiKeys(tenant: tenant)
        if json {
          print(try JSONOutput.encode(keys))
          return
        }
        if keys.isEmpty {
          print("no API keys: whago apikey create TENANT, or whago apikey create --service")
          return
        }
        let dates = ISO8601DateFormatter()
        print(
          Table.render(
            header: ["KEY", "KIND", "TENANT", "LABEL", "CREATED", "LAST USED", "REVOKED"],
            rows: keys.map {
              [
                $0.display, $0.kind.rawValue, $0.tenant ?? "-", $0.label ?? "-", dates.string(from: $0.createdAt),
                $0.lastUsedAt.map(dates.string) ?? "never", $0.revokedAt.map(dates.string) ?? "-",
              ]
            }))
      }
    }
  }

  struct Revoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Revoke a key by the prefix `whago apikey list` shows.",
      discussion: "`whago serve` caches keys for a few seconds; a revoked key stops working within that time.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The key's prefix, e.g. whago_Ab3dEf9hIj2k…") var prefix: String

    func run() async throws {
      try await global.withStore { store in
        let key = try await store.revokeAPIKey(prefix: prefix)
        print("revoked \(key.display)\(key.tenant.map { " of tenant \($0)" } ?? " (service)")")
      }
    }
  }
}
