/// Reads a tenant's plan limits by name (`min_send_gap_ms`, `monthly_credits`; nil: unlimited) for
/// rate limits declared from the plan. The worker asks on each take, so a plan change applies to
/// the next token (within whatever cache the provider keeps).
public typealias PlanLimitsProvider = @Sendable (_ tenant: String) async throws -> [String: Double?]
