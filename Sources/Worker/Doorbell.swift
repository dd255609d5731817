import Logging
import RedisClient

/// Listens on the queues' doorbell lists (rung by every enqueue, retry and recovery) so an idle
/// worker starts new work within a round trip instead of on a polling interval.
///
/// BLPOP blocks its connection, so the doorbell has a client of its own. Naming the doorbells of
/// several queues in one BLPOP is fine on one Redis; on Redis Cluster run one worker per queue
/// (each queue's keys live in one slot) or rely on the poll interval.
struct Doorbell: Sendable {
  let redis: RedisClient
  let keys: [String]
  let signal: WakeSignal
  let logger: Logger

  func run(until stopped: @Sendable () -> Bool) async {
    var failures = 0
    while !stopped() && !Task.isCancelled {
      do {
        let reply = try await redis.send(RedisCommand("BLPOP", keys + ["1"]))
        failures = 0
        if !reply.isNull { signal.fire() }
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
