import Foundation
import RedisClient
import TestSupport
import Testing

/// The operator's commands for plans, tenants and keys, run as real processes.
@Suite struct AdminCommandTests {
  @Test func planSetChangesOnlyWhatItNamesAndRejectsNonsense() async throws {
    try await TestDatabase.migrate()
    let plan = TestDatabase.tenantName()
    try await TestDatabase.whago(["plan", "set", plan, "--from", "business", "monthly_credits=6000", "chips=unlimited"])
    let shown = try await TestDatabase.whago(["plan", "show", plan, "--json"])
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(shown.split(separator: "\n").last!.utf8)) as? [[String: Any]])
    #expect(json[0]["monthly_credits"] as? Int == 6000)
    #expect(json[0]["chips"] is NSNull)
    #expect(json[0]["min_send_gap_ms"] as? Int == 5000)
    let env = ["WHAGO_DATABASE_URL": try TestDatabase.urlText]
    let redis = try TestRedis.url.description
    for (args, message) in [
      (["plan", "set", plan, "chips=-1"], "expected a whole number"),
      (["plan", "set", plan, "colour=blue"], "unknown limit 'colour'"),
      (["plan", "set", plan, "min_send_gap_ms=unlimited"], "expected a whole number"),
      (["plan", "set", "no-such-plan-\(plan)", "chips=1"], "no plan"),
      (["plan", "set", plan, "scheduling=maybe"], "true or false"),
    ] {
      let result = try await Whago.run(args, redis: redis, environment: env)
      #expect(result.status != 0, "\(args)")
      #expect(result.output.contains(message), "\(args): \(result.output)")
    }
  }

  @Test func tenantsAndKeys() async throws {
    try await TestDatabase.migrate()
    let tenant = try await TestDatabase.tenant(plan: "free")
    let env = ["WHAGO_DATABASE_URL": try TestDatabase.urlText]
    let redis = try TestRedis.url.description
    let duplicate = try await Whago.run(["tenant", "create", tenant, "--plan", "free"], redis: redis, environment: env)
    #expect(duplicate.status != 0 && duplicate.output.contains("already exists"))
    let badName = try await Whago.run(
      ["tenant", "create", "Bad Name", "--plan", "free"], redis: redis, environment: env)
    #expect(badName.status != 0 && badName.output.contains("invalid tenant name"))
    try await TestDatabase.whago(["tenant", "set-plan", tenant, "enterprise"])
    let list = try await TestDatabase.whago(["tenant", "list", "--json"])
    #expect(list.contains("\"name\":\"\(tenant)\",\"plan\":\"enterprise\""))

    let created = try await TestDatabase.whago(["apikey", "create", tenant, "--label", "ci"])
    let key = try #require(
      created.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
    #expect(key.hasPrefix("whago_") && key.count == 50)
    let listed = try await TestDatabase.whago(["apikey", "list", "--tenant", tenant])
    // Listings show the prefix, never the secret part.
    #expect(listed.contains(String(key.prefix(18))))
    #expect(!listed.contains(key))
    let revoked = try await TestDatabase.whago(["apikey", "revoke", String(key.prefix(18))])
    #expect(revoked.contains("revoked"))
    let unknown = try await Whago.run(["apikey", "revoke", "whago_nosuchkey000"], redis: redis, environment: env)
    #expect(unknown.status != 0 && unknown.output.contains("no API key"))
  }
}
