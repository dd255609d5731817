/// `webhooks.dispatch` (cron, every second): reads the event feed past its cursor and enqueues one
/// `webhook.deliver` per event and endpoint that wants it.
public enum WebhookDispatchJob: JobContract {
  public static let type = "webhooks.dispatch"
  public typealias Parameters = NoParameters
}

/// `webhook.deliver`: posts one event to one endpoint, signed; retried with backoff for about three
/// days, then dead (where `whago dead` and the dashboard show and retry it).
public enum WebhookDeliverJob: JobContract {
  public static let type = "webhook.deliver"
  public struct Parameters: Codable, Sendable, Equatable {
    public var endpointId: Int64
    public var eventId: Int64
    public init(endpointId: Int64, eventId: Int64) {
      self.endpointId = endpointId
      self.eventId = eventId
    }
  }
}
