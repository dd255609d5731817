import Foundation
import TestSupport
import WAHASimulator
import Wire

/// WAHA's webhooks read through the simulator's own JSON type: the envelope, its event and payload.
extension WebhookReceiver.Delivery {
  var json: JSONValue { (try? JSONValue.parse(body)) ?? .null }
  var event: String? { json["event"]?.string }
  var payload: JSONValue { json["payload"] ?? .null }
}
