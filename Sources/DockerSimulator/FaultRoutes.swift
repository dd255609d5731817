import Hummingbird
import Wire

/// `/_sim`: what tests and the demo use to make containers misbehave, and to see everything.
/// Not part of Docker's API.
struct FaultRoutes {
  let engine: Engine

  func register(on router: Router<some RequestContext>) {
    let sim = router.group("_sim/containers")
    sim.get("") { _, _ in EngineRoutes.json(await engine.everything()) }
    sim.post(":id/exit") { request, context in
      let body = try await EngineRoutes.object(request)
      let code = body["code"]?.number.map { Int($0) } ?? 137
      guard (0...255).contains(code) else { throw EngineError.badParameter("code must be 0 to 255") }
      return EngineRoutes.json(
        try await engine.crash(
          context.parameters.get("id") ?? "", code: code, restart: body["restart"] != .bool(false),
          oom: body["oom"] == .bool(true)))
    }
    sim.post(":id/hang") { _, context in
      EngineRoutes.json(try await engine.suspend(context.parameters.get("id") ?? "", true))
    }
    sim.post(":id/resume") { _, context in
      EngineRoutes.json(try await engine.suspend(context.parameters.get("id") ?? "", false))
    }
    sim.post(":id/cpu") { request, context in
      let percent = try Self.percent(
        try await EngineRoutes.object(request), limit: Double(UsageSampler.onlineCPUs) * 100)
      return EngineRoutes.json(
        try await engine.setUsage(context.parameters.get("id") ?? "", cpu: .some(percent), memory: nil))
    }
    sim.post(":id/memory") { request, context in
      let percent = try Self.percent(try await EngineRoutes.object(request), limit: 100)
      return EngineRoutes.json(
        try await engine.setUsage(context.parameters.get("id") ?? "", cpu: nil, memory: .some(percent)))
    }
  }

  /// `{"percent": 90}`; `{"percent": null}` goes back to the real reading.
  private static func percent(_ body: JSONValue, limit: Double) throws(EngineError) -> Double? {
    guard let value = body["percent"] else {
      throw .badParameter("send {\"percent\": N} (or null for the real reading)")
    }
    if value == .null { return nil }
    guard let percent = value.number, (0...limit).contains(percent) else {
      throw .badParameter("percent must be a number from 0 to \(Int(limit))")
    }
    return percent
  }
}
