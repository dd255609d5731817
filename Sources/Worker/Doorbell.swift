import JobQueue
import Logging

/// Listens on the queues' doorbell lists (rung by every enqueue, retry and recovery) so an idle
/// worker starts new work within a round trip instead of on a polling interval.
///
/// The wait blocks its connection, so the doorbell has a Broker (and client) of its own.
struct Doorbell: Sendable {
  let broker: Broker
  let queues: [String]
  let signal: WakeSignal
  let logger: Logger

  func run(until stopped: @Sendable () -> Bool) async {
    var failures = 0
    while !stopped() && !Task.isCancelled {
      do {
        let rang = try await broker.waitForRing(queues: queues)
        failures = 0
        if rang { signal.fire() }
      } catch {
        failures += 1
        if failures == 1 {
          logger.warning("doorbell lost Redis; polling until it is back", metadata: ["error": "\(error)"])
        }
        // Wake the fetcher anyway: it polls while the doorbell cannot ring.
        signal.fire()
        try? await Task.sleep(for: .milliseconds(min(100 * failures, 1000)))
      }
    }
  }
}
