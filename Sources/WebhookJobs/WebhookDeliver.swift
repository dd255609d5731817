import Foundation
import JobContracts
import JobQueue
import Logging
import OutboundHTTP
import Store
import Wire

/// Posts one event to one endpoint. A 2xx is delivered; anything else (another status, a refused
/// connection, no answer in time) throws, and the queue retries with backoff. The event id and the
/// body are the same on every attempt, so a receiver that got an attempt it could not answer can
/// drop the repeat by `Whago-Event-Id`.
struct WebhookDeliver: JobHandler {
  typealias Contract = WebhookDeliverJob
  let store: Store
  let http: HTTPClient
  let timeout: Duration

  func run(_ parameters: WebhookDeliverJob.Parameters, context: JobContext) async throws {
    guard
      let delivery = try await store.webhookDelivery(endpointID: parameters.endpointId, eventID: parameters.eventId)
    else {
      context.logger.info("endpoint deleted or disabled; delivery dropped")
      return
    }
    let body = Array(try WireJSON.encoder.encode(delivery.event))
    let timestamp = try await context.broker.redisTime() / 1000
    let request = OutboundRequest(
      method: "POST", url: delivery.url,
      headers: [
        ("Content-Type", "application/json"), ("User-Agent", "whago-webhooks/1"),
        ("Whago-Signature", WebhookSignature.header(secret: delivery.secret, timestamp: timestamp, body: body)),
        ("Whago-Event-Id", String(delivery.event.id)), ("Whago-Event-Type", delivery.event.type.rawValue),
        ("Whago-Delivery-Attempt", String(context.attempt)),
      ], body: body, timeout: timeout)
    let failure: String
    do {
      let response = try await http.send(request)
      if (200..<300).contains(response.status) {
        try await store.recordWebhookResult(endpointID: delivery.endpointID, succeeded: true)
        return
      }
      failure = "the endpoint answered \(response.status)"
    } catch {
      failure = "\(error)"
    }
    if try await store.recordWebhookResult(endpointID: delivery.endpointID, succeeded: false) {
      throw PermanentFailure("\(failure); the endpoint failed for 3 days and is now disabled")
    }
    throw WebhookFailed(reason: failure)
  }
}

struct WebhookFailed: Error, CustomStringConvertible {
  let reason: String
  var description: String { "webhook not delivered: \(reason)" }
}
