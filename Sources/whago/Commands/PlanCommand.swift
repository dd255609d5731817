import ArgumentParser
import Postgres
import Store
import Wire

struct PlanCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "plan", abstract: "Show and edit plans and their limits (no deploy needed).",
    subcommands: [Show.self, Set.self])

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show every plan, or one.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "A plan name; all plans when omitted.") var plan: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
      try await global.withStore { store in
        let plans: [Plan]
        if let plan {
          plans = [try await store.plan(named: plan)]
        } else {
          plans = try await store.plans()
        }
        if json {
          print(try JSONOutput.encode(plan == nil ? plans.map(PlanJSON.init) : [PlanJSON(plans[0])]))
          return
        }
        let header = ["LIMIT"] + plans.map(\.name)
        let rows = PlanLimit.allCases.map { limit in
          [limit.rawValue] + plans.map { PlanJSON($0).text(limit) }
        }
        print(Table.render(header: header, rows: rows))
      }
    }
  }

  struct Set: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Change a plan's limits; tenants on it follow from their next request or token.",
      discussion: """
        Values are whole numbers, 'unlimited' (where a limit may be), or true/false for scheduling and maturation.
        Examples:
          whago plan set business monthly_credits=6000 min_send_gap_ms=4000
          whago plan set enterprise api_requests_per_hour=unlimited
          whago plan set pro --from business price_cents=14700 chips=5
        """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The plan to change (or create, with --from).") var plan: String
    @Argument(help: "key=value pairs.") var assignments: [String] = []
    @Option(help: "Create the plan as a copy of this one first.") var from: String?

    func validate() throws {
      if assignments.isEmpty && from == nil { throw ValidationError("give at least one key=value") }
    }

    func run() async throws {
      var changes: [(PlanLimit, String)] = []
      for text in assignments {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw PlanError.badAssignment(text) }
        guard let limit = PlanLimit(rawValue: parts[0]) else { throw PlanError.unknownKey(parts[0]) }
        changes.append((limit, parts[1]))
      }
      try await global.withStore { store in
        var updated: Plan
        if let from {
          updated = try await store.plan(named: from)
          updated.name = plan
        } else {
          updated = try await store.plan(named: plan)
        }
        for (limit, value) in changes { try limit.apply(value, to: &updated) }
        try await store.save(updated)
        let json = PlanJSON(updated)
        print(
          "\(from == nil ? "updated" : "created") plan \(plan): "
            + PlanLimit.allCases.map { "\($0.rawValue)=\(json.text($0))" }.joined(separator: " "))
      }
    }
  }
}

/// A plan with the limit names operators type.
/// Unlimited is an explicit null, so scripts see every key.
struct PlanJSON: Encodable {
  var name: String
  @ExplicitNull var chips: Int?
  @ExplicitNull var monthlyCredits: Int?
  @ExplicitNull var activeCampaigns: Int?
  @ExplicitNull var contactsPerList: Int?
  var minSendGapMs: Int
  @ExplicitNull var sendsPerMinute: Int?
  @ExplicitNull var maturationPerChipDay: Int?
  @ExplicitNull var apiRequestsPerHour: Int?
  var scheduling: Bool
  var maturation: Bool
  @ExplicitNull var retentionDays: Int?
  var priceCents: Int
  @ExplicitNull var scheduledJobs: Int?
  @ExplicitNull var jobPayloadBytes: Int?

  init(_ plan: Plan) {
    name = plan.name
    chips = plan.chips
    monthlyCredits = plan.monthlyCredits
    activeCampaigns = plan.activeCampaigns
    contactsPerList = plan.contactsPerList
    minSendGapMs = plan.minSendGapMs
    sendsPerMinute = plan.sendsPerMinute
    maturationPerChipDay = plan.maturationPerChipDay
    apiRequestsPerHour = plan.apiRequestsPerHour
    scheduling = plan.scheduling
    maturation = plan.maturation
    retentionDays = plan.retentionDays
    priceCents = plan.priceCents
    scheduledJobs = plan.scheduledJobs
    jobPayloadBytes = plan.jobPayloadBytes
  }

  func text(_ limit: PlanLimit) -> String {
    func number(_ value: Int?) -> String { value.map(String.init) ?? "unlimited" }
    switch limit {
    case .chips: return number(chips)
    case .monthlyCredits: return number(monthlyCredits)
    case .activeCampaigns: return number(activeCampaigns)
    case .contactsPerList: return number(contactsPerList)
    case .minSendGapMs: return String(minSendGapMs)
    case .sendsPerMinute: return number(sendsPerMinute)
    case .maturationPerChipDay: return number(maturationPerChipDay)
    case .apiRequestsPerHour: return apiRequestsPerHour == 0 ? "0 (no API)" : number(apiRequestsPerHour)
    case .scheduling: return String(scheduling)
    case .maturation: return String(maturation)
    case .retentionDays: return number(retentionDays)
    case .priceCents: return String(priceCents)
    case .scheduledJobs: return number(scheduledJobs)
    case .jobPayloadBytes: return number(jobPayloadBytes)
    }
  }
}
