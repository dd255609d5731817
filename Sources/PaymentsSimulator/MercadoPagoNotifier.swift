import Foundation
import Payments
import Wire

/// Mercado Pago's notifications, sent as Mercado Pago sends them:
/// `POST <url>?data.id=<id>&type=<type>`, signed with `x-signature` and `x-request-id`, body
/// `{"action","type","data":{"id"},…}`. Nothing is sent without a webhook URL
/// (`/_sim/config`) and a secret.
struct MercadoPagoNotifier: Sendable {
  let book: MercadoPagoBook
  let poster: WebhookPoster
  let settings: LiveSettings
  let webhookSecret: String?

  func announce(dataID: String, type: String, action: String) {
    guard let url = settings.current.webhookURL, let secret = webhookSecret else { return }
    let requestID = UUID().uuidString.lowercased()
    let signature = MercadoPagoSignature.sign(dataID: dataID, requestID: requestID, secret: secret, timestamp: Date())
    let body: JSONValue = [
      "action": .string(action), "api_version": "v1", "type": .string(type), "data": ["id": .string(dataID)],
      "date_created": .string(Date().ISO8601Format()), "id": .int(book.nextPaymentID()), "live_mode": false,
    ]
    let separator = url.contains("?") ? "&" : "?"
    poster.post(
      url + separator + "data.id=\(dataID)&type=\(type)",
      headers: [("Content-Type", "application/json"), ("x-signature", signature), ("x-request-id", requestID)],
      body: Array(body.encoded()), what: "mercadopago \(action)")
  }
}
