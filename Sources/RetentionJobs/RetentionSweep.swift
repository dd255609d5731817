import CampaignStore
import JobCatalog
import JobContracts
import JobQueue
import Logging
import Store

/// What is kept only for a while goes, once a day: campaigns' personal data past their plan's
/// retention, webhook delivery ids past their deduplication window, tenants' events past 90 days,
/// dead letters past their queue's `dead_retention`, and dashboard sessions past any lifetime.
/// Each part is safe to repeat, so a sweep cut short by a crash is
/// finished by the next run.
struct RetentionSweep: JobHandler {
  typealias Contract = RetentionSweepJob
  static let webhookEventsDays = 30
  static let eventsDays = 90

  let store: Store
  let catalog: JobCatalog

  func run(_ parameters: RetentionSweepJob.Parameters, context: JobContext) async throws {
    var outcome = try await store.removeAgedPersonalData()
    outcome.webhookEvents = try await store.pruneWebhookEvents(
      olderThanDays: max(1, parameters.webhookEventsDays ?? Self.webhookEventsDays))
    outcome.events = try await store.pruneEvents(olderThanDays: max(1, parameters.eventsDays ?? Self.eventsDays))
    let sessions = try await store.pruneDashboardSessions()
    let actions = try await store.pruneDashboardActions()
    var dead = 0
    for name in catalog.queueNames {
      dead += try await context.broker.trimDead(queue: name, retention: catalog.queue(name).deadRetention)
    }
    context.logger.info(
      "retention sweep",
      metadata: [
        "campaigns": "\(outcome.campaigns)", "messages": "\(outcome.messages)",
        "webhook_events": "\(outcome.webhookEvents)", "events": "\(outcome.events)", "dead_letters": "\(dead)",
        "dashboard_sessions": "\(sessions)", "dashboard_actions": "\(actions)",
      ])
  }
}

/// The retention sweep's registration.
public enum RetentionJobs {
  public static func register(in registry: inout HandlerRegistry, store: Store, catalog: JobCatalog) {
    registry.register(RetentionSweep(store: store, catalog: catalog))
  }
}
