import ArgumentParser
import Postgres
import Store

struct Migrate: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Apply the database migrations this whago carries, then add the default plans that are missing.",
    discussion: """
      Each migration runs once, in order, in its own transaction; several `whago migrate` at once
      wait for each other. A database migrated by a newer whago is refused and left unchanged.
      Default plans and credit packs come from jobs/plans.json; plans already in the database
      (edited with `whago plan set`) are not overwritten, nor are packs.
      """)

  @OptionGroup var global: GlobalOptions

  func run() async throws {
    let directory = try global.jobsDirectory()
    let plans = try DefaultPlans.load(directory: directory)
    let packs = try DefaultCreditPacks.load(directory: directory)
    try await global.withStore(checked: false) { store in
      let report = try await Migrator(pool: store.pool).migrate { migration in
        print("applying \(migration.version) \(migration.name)")
      }
      let seeded = try await store.seed(plans: plans)
      let seededPacks = try await store.seed(creditPacks: packs)
      if report.applied.isEmpty {
        print("schema is up to date at version \(report.to)")
      } else {
        print("schema migrated from version \(report.from) to \(report.to)")
      }
      if !seeded.isEmpty { print("added default plans: \(seeded.joined(separator: ", "))") }
      if !seededPacks.isEmpty { print("added default credit packs: \(seededPacks.joined(separator: ", "))") }
    }
  }
}
