import CampaignStore
import Campaigns
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import JobCatalog
import JobContracts
import JobQueue
import NIOCore
import Store
import Wire

/// `POST /v1/webhooks/waha`: WAHA's events about the tenants' chips and messages. WAHA cannot send
/// an API key, so a webhook is trusted only by its `X-Webhook-Hmac` (hex HMAC-SHA512 of the raw
/// body under the shared secret): a missing or wrong signature is refused and changes nothing, and
/// without a configured secret every webhook is refused (WHAGO's old receiver accepted unsigned ones).
///
/// `POST /v1/webhooks/waha/chips/{id}` is one chip's own receiver, signed with that chip's key
/// (`WAHAWebhookKey`): its events can only be about that chip, whatever the body says, and must
/// name the chip's session. It is what a tenant running its own WAHA is given, so seeing its own
/// webhook configuration lets it sign for no chip but its own. The shared secret stays with the
/// operators' WAHA fleet.
struct WAHAWebhookRoutes {
  let store: Store
  let secret: String?
  /// Where `chip.restart` goes; nil in servers that run no chips.
  var restarts: (broker: Broker, catalog: JobCatalog)?

  static let signatureHeader = HTTPField.Name("X-Webhook-Hmac")!
  static let maxBody = 1 << 20

  func register(on router: Router<EnqueuerContext>) {
    router.post("v1/webhooks/waha") { request, _ in try await receive(request, chip: nil) }
    router.post("v1/webhooks/waha/chips/{id}") { request, context in
      // An id that cannot be a chip's is signed by no key: the same 401 as a wrong signature.
      let chip = context.parameters.get("id", as: Int64.self).flatMap { $0 > 0 ? $0 : nil } ?? 0
      return try await receive(request, chip: chip)
    }
  }

  /// `chip`: the chip whose own receiver was called (nil: the shared one).
  func receive(_ request: Request, chip bound: Int64?) async throws -> Response {
    guard let secret, !secret.isEmpty else {
      throw Problem(
        .unauthorized, "webhook-not-configured", "WAHA webhooks are not accepted here",
        detail: "this server has no WAHA webhook secret (WHAGO_WAHA_WEBHOOK_SECRET); unsigned webhooks are refused")
    }
    let body: ByteBuffer
    do {
      body = try await request.body.collect(upTo: Self.maxBody)
    } catch is NIOTooManyBytesError {
      throw Problem(
        .contentTooLarge, "body-too-large", "The body is too large", detail: "webhooks are limited to 1 MiB")
    }
    let bytes = Array(body.readableBytesView)
    let key = bound.map { $0 > 0 ? WAHAWebhookKey.forChip($0, secret: secret) : "" } ?? secret
    guard let signature = request.headers[Self.signatureHeader], !key.isEmpty,
      Self.verify(bytes, signature: signature, secret: key)
    else {
      let under = bound == nil ? "the shared secret" : "this chip's key (GET /v1/chips/{id}/webhook)"
      throw Problem(
        .unauthorized, "bad-signature", "The webhook signature is missing or wrong",
        detail: "X-Webhook-Hmac must be the hex HMAC-SHA512 of the body under \(under); nothing was changed")
    }
    guard case .object(let envelope) = try JSONValue.body(bytes), case .string(let eventID)? = envelope["id"],
      !eventID.isEmpty, case .string(let event)? = envelope["event"]
    else {
      throw Problem.invalid([.init(pointer: "", detail: "a WAHA event envelope has \"id\" and \"event\"")])
    }
    let session = envelope["session"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? ""
    let payload: [String: JSONValue] = if case .object(let p)? = envelope["payload"] { p } else { [:] }
    // A chip's own receiver speaks for that chip only; the shared one trusts the metadata WHAGO
    // wrote into the session, and the chip must still own the session the event names.
    var chipID = bound
    if bound == nil, case .object(let metadata)? = envelope["metadata"],
      case .string(let text)? = metadata["whago_chip_id"]
    {
      chipID = Int64(text)
    }
    func string(_ key: String) -> String? { if case .string(let s)? = payload[key] { s } else { nil } }

    let outcome: Store.EventOutcome
    switch event {
    case "session.status":
      guard let status = string("status") else {
        throw Problem.invalid([.init(pointer: "/payload/status", detail: "missing")])
      }
      outcome = try await store.applySessionStatus(
        eventID: eventID, session: session, chipID: chipID, status: ChipStatus(reported: status))
      // A chip whago runs is restarted at once (the job leaves a tenant's own WAHA alone); the
      // health check would find it within a minute anyway.
      if outcome == .applied, ChipStatus(reported: status) == .failed, let bound, let restarts {
        _ = try await restarts.broker.enqueue(
          try ChipRestartJob.spec(
            .init(chipId: bound), catalog: restarts.catalog, key: "chip-restart:\(bound)", keyHeldWhileAlive: true))
      }
    case "message.ack":
      guard let id = string("id"), case .int(let ack)? = payload["ack"] else {
        throw Problem.invalid([.init(pointer: "/payload", detail: "a message.ack has \"id\" and \"ack\"")])
      }
      // `true_<chatId>_<id>`, sometimes in an @lid form: the last part is what the send answered.
      let messageID = String(id.split(separator: "_").last ?? Substring(id))
      outcome = try await store.applyMessageAck(eventID: eventID, messageID: messageID, ack: Int(ack), chipID: bound)
    case "message":
      if let text = string("body"), let keyword = OptOut.keyword(in: text), let from = string("from"),
        let phone = try? PhoneNumber(chatId: from)
      {
        outcome = try await store.applyOptOutReply(
          eventID: eventID, session: session, chipID: chipID, phone: phone.withNinthDigit.e164,
          keyword: keyword.rawValue.uppercased())
      } else {
        outcome = try await store.recordEvent(eventID: eventID, type: event)
      }
    default:
      outcome = try await store.recordEvent(eventID: eventID, type: String(event.prefix(60)))
    }
    let result =
      switch outcome {
      case .applied: "applied"
      case .duplicate: "duplicate"
      case .unknownChip: "ignored"
      }
    return try JSONResponse.make(.ok, ["result": result])
  }

  /// swift-crypto checks the code in constant time, so the time taken says nothing about the
  /// expected signature; a signature that is not hex is simply wrong.
  static func verify(_ body: [UInt8], signature: String, secret: String) -> Bool {
    let hex = Array(signature.utf8)
    guard hex.count % 2 == 0, !hex.isEmpty else { return false }
    var code: [UInt8] = []
    code.reserveCapacity(hex.count / 2)
    for i in stride(from: 0, to: hex.count, by: 2) {
      guard let byte = UInt8(String(decoding: hex[i..<i + 2], as: UTF8.self), radix: 16) else { return false }
      code.append(byte)
    }
    return HMAC<SHA512>.isValidAuthenticationCode(
      code, authenticating: body, using: SymmetricKey(data: Data(secret.utf8)))
  }
}
