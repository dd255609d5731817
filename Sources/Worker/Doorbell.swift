import JobQueue
import Logging
import RedisClient

/// Listens on the queues' doorbell lists (rung by every enqueue, retry and recovery) so an idle
/// worker starts new work within a round trip instead of on a polling interval.
///
/// The wait blocks its connection, so the doorbell has a Broker (and client) of its own. On Redis
/// Cluster one BLPOP cannot name keys of several slots, and each queue is a slot of its own: the
/// doorbell then listens with one client per queue, each blocked on its queue's master.
struct Doorbell: Sendable {
  let broker: Broker
  let queues: [String]
  let signal: WakeSignal
  let logger: Logger

  func run(until stopped: @escaping @Sendable () -> Bool) async {
    guard broker.redis.isCluster, queues.count > 1 else {
      await listen(broker: broker, queues: queues, until: stopped)
      return
    }
    await withTaskGroup(of: Void.self) { group in
      for queue in queues {
        group.addTask {
          let own = RedisClient(url: broker.redis.url, options: broker.redis.options, logger: logger)
          await listen(broker: Broker(redis: own), queues: [queue], until: stopped)
          await own.shutdown()
        }
      }
    }
  }

  private func listen(broker: Broker, queues: [String], until stopped: @Sendable () -> Bool) async {
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
