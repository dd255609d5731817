import ArgumentParser
import Postgres
import Store

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
struct PlanJSON: Encodable {
  var name: String
  var chips: Int?
  var monthly_credits: Int?
  var active_campaigns: Int?
  var contacts_per_list: Int?
  var min_send_gap_ms: Int
  var sends_per_minute: Int?
  var maturation_per_chip_day: Int?
  var api_requests_per_hour: Int?
  var scheduling: Bool
  var maturation: Bool
  var retention_days: Int?
  var price_cents: Int

  init(_ plan: Plan) {
    name = plan.name
    chips = plan.chips
    monthly_credits = plan.monthlyCredits
    active_campaigns = plan.activeCampaigns
    contacts_per_list = plan.contactsPerList
    min_send_gap_ms = plan.minSendGapMs
    sends_per_minute = plan.sendsPerMinute
    maturation_per_chip_day = plan.maturationPerChipDay
    api_requests_per_hour = plan.apiRequestsPerHour
    scheduling = plan.scheduling
    maturation = plan.maturation
    retention_days = plan.retentionDays
    price_cents = plan.priceCents
  }

  func encode(to encoder: any Encoder) throws {
    enum Key: String, CodingKey {
      case name, chips, monthly_credits, active_campaigns, contacts_per_list, min_send_gap_ms, sends_per_minute,
        maturation_per_chip_day
      case api_requests_per_hour, scheduling, maturation, retention_days, price_cents
    }
    var c = encoder.container(keyedBy: Key.self)
    try c.encode(name, forKey: .name)
    // Unlimited is an explicit null, so scripts see every key.
    try c.encode(chips, forKey: .chips)
    try c.encode(monthly_credits, forKey: .monthly_credits)
    try c.encode(active_campaigns, forKey: .active_campaigns)
    try c.encode(contacts_per_list, forKey: .contacts_per_list)
    try c.encode(min_send_gap_ms, forKey: .min_send_gap_ms)
    try c.encode(sends_per_minute, forKey: .sends_per_minute)
    try c.encode(maturation_per_chip_day, forKey: .maturation_per_chip_day)
    try c.encode(api_requests_per_hour, forKey: .api_requests_per_hour)
    try c.encode(scheduling, forKey: .scheduling)
    try c.encode(maturation, forKey: .maturation)
    try c.encode(retention_days, forKey: .retention_days)
    try c.encode(price_cents, forKey: .price_cents)
  }

  func text(_ limit: PlanLimit) -> String {
    func number(_ value: Int?) -> String { value.map(String.init) ?? "unlimited" }
    switch limit {
    case .chips: return number(chips)
    case .monthlyCredits: return number(monthly_credits)
    case .activeCampaigns: return number(active_campaigns)
    case .contactsPerList: return number(contacts_per_list)
    case .minSendGapMs: return String(min_send_gap_ms)
    case .sendsPerMinute: return number(sends_per_minute)
    case .maturationPerChipDay: return number(maturation_per_chip_day)
    case .apiRequestsPerHour: return api_requests_per_hour == 0 ? "0 (no API)" : number(api_requests_per_hour)
    case .scheduling: return String(scheduling)
    case .maturation: return String(maturation)
    case .retentionDays: return number(retention_days)
    case .priceCents: return String(price_cents)
    }
  }
}
