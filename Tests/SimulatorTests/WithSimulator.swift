import Foundation
import TestSupport
import Wire

/// Runs `body` against a fresh simulator (and, with `webhookSecret`, a webhook receiver it sends to),
/// and stops them whether `body` passes or throws.
func withSimulator(
  _ extra: [String] = [], webhookSecret: String? = nil,
  _ body: (SimProcess, WebhookReceiver) async throws -> Void
) async throws {
  let receiver = try await WebhookReceiver()
  var arguments = extra + ["--webhook-url", receiver.url("waha")]
  if let webhookSecret { arguments += ["--webhook-secret", webhookSecret] }
  let sim: SimProcess
  do {
    sim = try await SimProcess(extra: arguments)
  } catch {
    await receiver.stop()
    throw error
  }
  do {
    try await body(sim, receiver)
  } catch {
    try? await sim.stop()
    await receiver.stop()
    throw TestSetupError("\(error)\n--- simulator log ---\n\(sim.child.output)")
  }
  try await sim.stop()
  await receiver.stop()
}
