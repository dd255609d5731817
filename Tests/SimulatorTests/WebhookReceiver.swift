import Foundation
import TestSupport
import WAHASimulator

/// WAHA's webhooks read through the simulator's own JSON type: the envelope, its event and payload.
extension WebhookReceiver.Delivery {
  var json: JSON { (try? JSON.parse(body)) ?? .null }
  var event: String? { json["event"]?.string }
  var payload: JSON { json["payload"] ?? .null }
}
