import Foundation
import Postgres

/// What a tenant bought: its limits, as WHAGO sells them. Plans are rows, so an operator changes
/// one with `whago plan set` and the next token taken or request served follows it, no deploy.
/// A nil limit means unlimited.
public struct Plan: Codable, Sendable, Equatable {
  public var name: String
  public var chips: Int?
  public var monthlyCredits: Int?
  public var activeCampaigns: Int?
  public var contactsPerList: Int?
  /// The shortest time between two messages of one chip.
  public var minSendGapMs: Int
  /// Messages a minute across all the tenant's chips (nil: unlimited).
  public var sendsPerMinute: Int?
  /// Warm-up messages one chip may send a day (nil: unlimited).
  public var maturationPerChipDay: Int?
  /// 0: no API access for tenant keys; nil: no limit.
  public var apiRequestsPerHour: Int?
  public var scheduling: Bool
  public var maturation: Bool
  public var retentionDays: Int?
  public var priceCents: Int
  /// Jobs the tenant may have waiting in one queue for a time still to come, submitted over HTTP
  /// (nil: unlimited): so no tenant fills Redis with jobs a year ahead.
  public var scheduledJobs: Int?
  /// The largest payload of one job the tenant submits over HTTP, in bytes (nil: up to the body limit).
  public var jobPayloadBytes: Int?

  /// Tenant keys may call the API at all.
  public var hasAPIAccess: Bool { apiRequestsPerHour != 0 }

  /// A plan as code builds one (tests, rules checked without a database); limits default to none.
  public init(
    name: String, chips: Int? = nil, monthlyCredits: Int? = nil, activeCampaigns: Int? = nil,
    contactsPerList: Int? = nil, minSendGapMs: Int = 0, sendsPerMinute: Int? = nil, maturationPerChipDay: Int? = nil,
    apiRequestsPerHour: Int? = nil, scheduling: Bool = false, maturation: Bool = false, retentionDays: Int? = nil,
    priceCents: Int = 0, scheduledJobs: Int? = nil, jobPayloadBytes: Int? = nil
  ) {
    self.name = name
    self.chips = chips
    self.monthlyCredits = monthlyCredits
    self.activeCampaigns = activeCampaigns
    self.contactsPerList = contactsPerList
    self.minSendGapMs = minSendGapMs
    self.sendsPerMinute = sendsPerMinute
    self.maturationPerChipDay = maturationPerChipDay
    self.apiRequestsPerHour = apiRequestsPerHour
    self.scheduling = scheduling
    self.maturation = maturation
    self.retentionDays = retentionDays
    self.priceCents = priceCents
    self.scheduledJobs = scheduledJobs
    self.jobPayloadBytes = jobPayloadBytes
  }
}

/// A plan field an operator can set, and how its text value reads.
public enum PlanLimit: String, CaseIterable, Sendable {
  case chips, monthlyCredits = "monthly_credits", activeCampaigns = "active_campaigns"
  case contactsPerList = "contacts_per_list", minSendGapMs = "min_send_gap_ms", sendsPerMinute = "sends_per_minute"
  case maturationPerChipDay = "maturation_per_chip_day"
  case apiRequestsPerHour = "api_requests_per_hour", scheduling, maturation
  case retentionDays = "retention_days", priceCents = "price_cents"
  case scheduledJobs = "scheduled_jobs", jobPayloadBytes = "job_payload_bytes"

  var isFlag: Bool { self == .scheduling || self == .maturation }
  var allowsUnlimited: Bool { !isFlag && self != .minSendGapMs && self != .priceCents }

  /// Applies `text` to `plan`: a whole number ≥ 0, `unlimited` where allowed, or true/false for flags.
  public func apply(_ text: String, to plan: inout Plan) throws(PlanError) {
    let lower = text.lowercased()
    if isFlag {
      let value: Bool
      switch lower {
      case "true", "yes", "on", "1": value = true
      case "false", "no", "off", "0": value = false
      default: throw .badValue(key: rawValue, value: text, expected: "true or false")
      }
      if self == .scheduling { plan.scheduling = value } else { plan.maturation = value }
      return
    }
    var number: Int?
    if lower == "unlimited" || lower == "null" {
      guard allowsUnlimited else { throw .badValue(key: rawValue, value: text, expected: "a whole number ≥ 0") }
    } else {
      guard let parsed = Int(text.replacingOccurrences(of: "_", with: "")), parsed >= 0 else {
        throw .badValue(
          key: rawValue, value: text,
          expected: allowsUnlimited ? "a whole number ≥ 0 or 'unlimited'" : "a whole number ≥ 0")
      }
      number = parsed
    }
    switch self {
    case .chips: plan.chips = number
    case .monthlyCredits: plan.monthlyCredits = number
    case .activeCampaigns: plan.activeCampaigns = number
    case .contactsPerList: plan.contactsPerList = number
    case .minSendGapMs: plan.minSendGapMs = number ?? 0
    case .sendsPerMinute: plan.sendsPerMinute = number
    case .maturationPerChipDay: plan.maturationPerChipDay = number
    case .apiRequestsPerHour: plan.apiRequestsPerHour = number
    case .retentionDays: plan.retentionDays = number
    case .priceCents: plan.priceCents = number ?? 0
    case .scheduledJobs: plan.scheduledJobs = number
    case .jobPayloadBytes: plan.jobPayloadBytes = number
    case .scheduling, .maturation: break
    }
  }
}

public enum PlanError: Error, CustomStringConvertible, Equatable {
  case unknownPlan(String, known: [String])
  case unknownKey(String)
  case badValue(key: String, value: String, expected: String)
  case badAssignment(String)
  case inUse(String, tenants: Int)
  case badDefaults(String)

  public var description: String {
    switch self {
    case .unknownPlan(let name, let known):
      "no plan '\(name)'; plans: \(known.joined(separator: ", ")) (create one with `whago plan set \(name) --from PLAN key=value …`)"
    case .unknownKey(let key):
      "unknown limit '\(key)'; limits: \(PlanLimit.allCases.map(\.rawValue).joined(separator: ", "))"
    case .badValue(let key, let value, let expected):
      "\(key)=\(value): expected \(expected)"
    case .badAssignment(let text):
      "'\(text)' is not key=value (e.g. monthly_credits=6000)"
    case .inUse(let name, let tenants):
      "plan '\(name)' is used by \(tenants) tenant(s); move them with `whago tenant set-plan` first"
    case .badDefaults(let reason):
      "jobs/plans.json: \(reason)"
    }
  }
}

extension Plan {
  /// The limits by their operator names, as numbers (flags are 1 or 0; nil: unlimited), for rate
  /// limits that read the plan.
  public var limitValues: [String: Double?] {
    [
      PlanLimit.chips.rawValue: chips.map(Double.init),
      PlanLimit.monthlyCredits.rawValue: monthlyCredits.map(Double.init),
      PlanLimit.activeCampaigns.rawValue: activeCampaigns.map(Double.init),
      PlanLimit.contactsPerList.rawValue: contactsPerList.map(Double.init),
      PlanLimit.minSendGapMs.rawValue: Double(minSendGapMs),
      PlanLimit.sendsPerMinute.rawValue: sendsPerMinute.map(Double.init),
      PlanLimit.maturationPerChipDay.rawValue: maturationPerChipDay.map(Double.init),
      PlanLimit.apiRequestsPerHour.rawValue: apiRequestsPerHour.map(Double.init),
      PlanLimit.scheduling.rawValue: scheduling ? 1 : 0,
      PlanLimit.maturation.rawValue: maturation ? 1 : 0,
      PlanLimit.retentionDays.rawValue: retentionDays.map(Double.init),
      PlanLimit.priceCents.rawValue: Double(priceCents),
      PlanLimit.scheduledJobs.rawValue: scheduledJobs.map(Double.init),
      PlanLimit.jobPayloadBytes.rawValue: jobPayloadBytes.map(Double.init),
    ]
  }
}
