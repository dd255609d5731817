import Foundation
import HTTPTypes
import Hummingbird
import JobCatalog
import JobContracts
import JobQueue
import OutboundHTTP
import Store
import WAHA

/// Linking a phone to a chip: the QR code to scan, a pairing code for a phone that cannot scan,
/// and a new proxy id for a chip whose IP got burnt. They ask the chip's WAHA directly and answer
/// with what it said: a QR exists only while the session waits for one.
struct ChipConnectionRoutes {
  let store: Store
  let broker: Broker
  let catalog: JobCatalog
  let limits: EnqueuerServer.Limits

  /// For the chips' WAHA: a tenant's own is held to the same address policy as the workers' (no
  /// internal network the operator has not allowed); whago's own containers are exempt
  /// (`WAHAClient.ownContainer`).
  let http: HTTPClient

  init(store: Store, broker: Broker, catalog: JobCatalog, limits: EnqueuerServer.Limits) {
    self.store = store
    self.broker = broker
    self.catalog = catalog
    self.limits = limits
    var options = HTTPClient.Options()
    options.addressPolicy = limits.outbound
    http = HTTPClient(options: options)
  }

  func register(on group: RouterGroup<EnqueuerContext>) {
    group.get("chips/{id}/qr") { _, context in try await qr(context: context) }
    group.post("chips/{id}/pairing-code") { request, context in try await pairingCode(request, context: context) }
    group.post("chips/{id}/rotate-proxy") { _, context in try await rotateProxy(context: context) }
  }

  /// The chip (the tenant's own), and a client for its WAHA.
  func chip(_ context: EnqueuerContext) async throws -> (Chip, WAHAClient) {
    let access = try context.tenant()
    guard let id = context.parameters.get("id", as: Int64.self), id > 0,
      let chip = try await store.chip(tenantID: access.tenant.id, id: id),
      let endpoint = try await store.chipEndpoint(id: id)
    else { throw Problem.notFound("no chip with that id; list them with GET /v1/chips") }
    if !chip.managed, let host = URLComponents(string: endpoint.wahaURL)?.host,
      let refusal = limits.outbound.refusal(host: host)
    {
      throw Problem(.forbidden, "address-refused", "The chip's WAHA address is refused", detail: refusal)
    }
    return (
      chip,
      WAHAClient(
        baseURL: endpoint.wahaURL, apiKey: endpoint.wahaAPIKey, http: http, timeout: .seconds(15),
        ownContainer: chip.managed)
    )
  }

  func qr(context: EnqueuerContext) async throws -> Response {
    let (chip, waha) = try await chip(context)
    let code: WAHAQRCode
    do {
      code = try await waha.qr(chip.session)
    } catch {
      throw Self.problem(error, chip: chip, asking: "a QR code")
    }
    return try JSONResponse.make(.ok, QRCodeView(mimetype: code.mimetype, data: code.data))
  }

  func pairingCode(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let (chip, waha) = try await chip(context)
    let body = try await RequestReader.body(
      request, limit: limits.maxBody, fields: ["phone"], noun: "a pairing code request")
    let phone = body.string("phone", max: 20, expected: "the phone's number with its country code, digits only") {
      phone in
      (8...15).contains(phone.count) && phone.allSatisfy { $0.isASCII && $0.isNumber }
        ? nil : "must be 8 to 15 digits with the country code, e.g. 5511999999999"
    }
    try body.finish()
    guard let phone else { throw Problem.invalid(body.problems) }
    let code: String
    do {
      code = try await waha.requestPairingCode(session: chip.session, phoneNumber: phone)
    } catch {
      throw Self.problem(error, chip: chip, asking: "a pairing code")
    }
    return try JSONResponse.make(.ok, PairingCodeView(code: code))
  }

  /// A new sticky proxy id (so a new IP) for a chip whago connects, applied by a `chip.provision`
  /// run that updates the session and restarts it.
  func rotateProxy(context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    guard let id = context.parameters.get("id", as: Int64.self), id > 0,
      let chip = try await store.chip(tenantID: access.tenant.id, id: id)
    else { throw Problem.notFound("no chip with that id; list them with GET /v1/chips") }
    guard chip.managed else {
      throw Problem(
        .conflict, "own-waha", "The chip runs on the tenant's own WAHA",
        detail: "whago assigns proxies only to chips it connects itself; set the proxy in your WAHA's session")
    }
    do {
      try await store.rotateProxy(chipID: id)
    } catch let error as ProxyError {
      throw DashboardRoutes.problem(error)
    }
    let job = try await broker.enqueue(
      try ChipProvisionJob.spec(
        .init(chipId: id, rotate: true), catalog: catalog, key: "chip-rotate:\(id)", keyHeldWhileAlive: true,
        tenant: access.tenant.name))
    return try JSONResponse.make(.accepted, RotationView(chipId: id, jobId: job.id))
  }

  static func problem(_ error: WAHAError, chip: Chip, asking what: String) -> Problem {
    switch error {
    case .sessionNotWorking(_, let status):
      Problem(
        .conflict, "chip-not-scanning", "The chip is not waiting for a phone",
        detail:
          "WAHA gives \(what) only while the session is SCAN_QR_CODE; it is \(status). "
          + "A chip that is WORKING is linked already; one STARTING asks for a scan in a few seconds")
    case .sessionNotFound:
      Problem(
        .conflict, "chip-provisioning", "The chip's session does not exist yet",
        detail: "it is being connected (step: \(chip.provisioningStep ?? "none")); try again in a few seconds"
          + (chip.lastError.map { "; last error: \($0)" } ?? ""))
    // A state of the chip's WAHA, not a fault of this server: 409, as for a session that is not
    // scanning, so a client shows the reason instead of retrying blindly.
    case .transient, .unauthorized, .rejected, .sessionExists, .notOnWhatsApp:
      Problem(
        .conflict, "waha-unavailable", "The chip's WAHA did not answer",
        detail: "\(error); check the chip's WAHA (GET /v1/chips/{id} shows its status), then ask again")
    }
  }
}

struct QRCodeView: Encodable {
  var mimetype: String
  var data: String
}

struct PairingCodeView: Encodable {
  var code: String
}

struct RotationView: Encodable {
  var chipId: Int64
  var jobId: String
}
