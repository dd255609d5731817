import JobCatalog
import JobContracts
import JobQueue
import Logging
import Store

/// Turns new events into deliveries. The cursor moves only after the deliveries are enqueued, and
/// each delivery's key is its event and endpoint, so a dispatcher that dies in between (or two
/// that run at once) enqueues nothing twice and loses nothing.
struct WebhookDispatch: JobHandler {
  typealias Contract = WebhookDispatchJob
  let store: Store
  let catalog: JobCatalog
  /// Events read per batch; a run reads batches until the feed is drained or `maxBatches`.
  var batch = 500
  var maxBatches = 20

  func run(_ parameters: NoParameters, context: JobContext) async throws {
    for _ in 0..<maxBatches {
      let (cursor, next, deliveries) = try await store.webhookDispatchBatch(limit: batch)
      guard next > cursor else { return }
      let specs = try deliveries.map { delivery in
        try WebhookDeliverJob.spec(
          .init(endpointId: delivery.endpointID, eventId: delivery.eventID), catalog: catalog,
          key: "webhook:\(delivery.eventID):\(delivery.endpointID)")
      }
      if !specs.isEmpty { _ = try await context.broker.enqueue(specs) }
      guard try await store.advanceWebhookDispatch(from: cursor, to: next) else { return }
      context.logger.debug(
        "dispatched events", metadata: ["through": "\(next)", "deliveries": "\(deliveries.count)"])
    }
  }
}
