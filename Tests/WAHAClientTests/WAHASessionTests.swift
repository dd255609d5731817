import Foundation
import OutboundHTTP
import TestSupport
import Testing
import WAHA

/// Connecting a WhatsApp number through the WAHA client, against the real `whago sim waha
/// --require-scan`: sessions with their proxies, the QR code (a real PNG), the pairing code, the
/// phone's scan, and what restart and logout do to the link.
@Suite struct WAHASessionTests {
  /// The simulator with scans required, a webhook receiver it reports to, and a client for it.
  struct Linking {
    let child: ChildProcess
    let base: String
    let hooks: WebhookReceiver
    let http = HTTPClient()
    var waha: WAHAClient { WAHAClient(baseURL: base, apiKey: "sim-key", http: http) }

    static func start() async throws -> Linking {
      let hooks = try await WebhookReceiver()
      let (child, port) = try await Whago.server(
        [
          "sim", "waha", "--api-key", "sim-key", "--sessions", "", "--require-scan", "--start-delay", "50ms",
          "--latency", "0ms", "--webhook-url", hooks.url("waha"),
        ], label: "waha-sim-linking")
      let base = "http://127.0.0.1:\(port)"
      try await eventually("the WAHA simulator to answer /ping", within: .seconds(30)) {
        if !child.isRunning { throw TestSetupError("whago sim waha exited: \(child.output)") }
        return (try? await HTTP.send("GET", base + "/ping"))?.status == 200
      }
      return Linking(child: child, base: base, hooks: hooks)
    }

    func stop() async throws {
      http.close()
      child.signal(SIGTERM)
      _ = try await child.waitForExit()
      await hooks.stop()
    }

    /// A `/_sim` call (no key); its status and JSON answer.
    func control(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> (Int, Any?) {
      let reply = try await HTTP.send(
        method, base + "/_sim" + path, headers: body == nil ? [:] : ["Content-Type": "application/json"],
        body: try body.map { try JSONSerialization.data(withJSONObject: $0) })
      return (reply.status, try? JSONSerialization.jsonObject(with: reply.body))
    }

    /// `GET /_sim/sessions`: every session with its full config, status and link.
    func simSession(_ name: String) async throws -> [String: Any]? {
      let (_, list) = try await control("GET", "/sessions")
      return (list as? [[String: Any]])?.first { $0["name"] as? String == name }
    }

    func api(_ path: String, accept: String? = nil) async throws -> HTTP.Reply {
      var headers = ["X-Api-Key": "sim-key"]
      if let accept { headers["Accept"] = accept }
      return try await HTTP.send("GET", base + path, headers: headers)
    }

    /// The session's current QR value (`?format=raw`).
    func qrValue(_ session: String) async throws -> String? {
      let reply = try await api("/api/\(session)/auth/qr?format=raw")
      return (try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any])?["value"] as? String
    }

    func waitForStatus(_ session: String, _ status: String) async throws {
      try await eventually("\(session) to be \(status)", within: .seconds(15)) {
        try await waha.session(session).status == status
      }
    }

    /// The `session.status` webhooks for `session` as they arrived: each one's status and the history
    /// of statuses its payload carries (oldest first).
    func reportedStatuses(_ session: String) -> [(status: String, history: [String])] {
      hooks.deliveries.compactMap { delivery -> (status: String, history: [String])? in
        guard let json = try? JSONSerialization.jsonObject(with: delivery.body) as? [String: Any],
          json["event"] as? String == "session.status", json["session"] as? String == session,
          let payload = json["payload"] as? [String: Any], let status = payload["status"] as? String
        else { return nil }
        let history = (payload["statuses"] as? [[String: Any]] ?? []).compactMap { $0["status"] as? String }
        return (status, history)
      }
    }
  }

  /// Each chip's session keeps the proxy and webhooks it was created with, as the simulator's
  /// listing shows; an update replaces the whole config; credentials never reach a description.
  @Test func sessionsKeepTheirProxiesAndConfig() async throws {
    let sim = try await Linking.start()
    let waha = sim.waha
    do {
      try await waha.ping()
      let webhook = SessionWebhook(
        url: "http://127.0.0.1:9/v1/webhooks/waha?token=t0k3n", events: ["session.status", "message.ack"],
        hmacKey: "hook-secret", retries: .init(policy: .exponential, delaySeconds: 2, attempts: 5))
      let chips = [
        ("chip_6f1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", "br-user__cr.br;sessid.a1b2c3d4e5f6", "pw-one"),
        ("chip_0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d", "br-user__cr.br;sessid.0f9e8d7c6b5a", "pw-two"),
      ]
      for (name, username, password) in chips {
        let config = SessionConfig(
          proxy: SessionProxy(server: "gw.dataimpulse.com:824", username: username, password: password),
          metadata: ["tenant": "t-42", "chip": name], webhooks: [webhook])
        #expect(
          !"\(config)".contains(password) && !"\(config)".contains("sessid") && !"\(config)".contains("hook-secret"))
        #expect(!"\(config)".contains("t0k3n"))
        try await waha.createSession(name: name, config: config, start: false)
      }

      for (name, username, password) in chips {
        let listed = try #require(try await sim.simSession(name))
        #expect(listed["status"] as? String == "STOPPED")
        #expect(listed["logged_in"] as? Bool == false)
        let config = try #require(listed["config"] as? [String: Any])
        let proxy = try #require(config["proxy"] as? [String: Any])
        #expect(proxy["server"] as? String == "gw.dataimpulse.com:824")
        #expect(proxy["username"] as? String == username)
        #expect(proxy["password"] as? String == password)
        #expect(config["metadata"] as? [String: String] == ["tenant": "t-42", "chip": name])
        let hooks = try #require(config["webhooks"] as? [[String: Any]])
        #expect(hooks.count == 1)
        #expect(hooks.first?["url"] as? String == webhook.url)
        #expect(hooks.first?["events"] as? [String] == ["session.status", "message.ack"])
        #expect((hooks.first?["hmac"] as? [String: Any])?["key"] as? String == "hook-secret")
        let retries = try #require(hooks.first?["retries"] as? [String: Any])
        #expect(retries["policy"] as? String == "exponential")
        #expect(retries["delaySeconds"] as? Int == 2 && retries["attempts"] as? Int == 5)

        // WAHA's own answer echoes the config too.
        let shown = try JSONSerialization.jsonObject(with: try await sim.api("/api/sessions/\(name)").body)
        let shownProxy = ((shown as? [String: Any])?["config"] as? [String: Any])?["proxy"] as? [String: Any]
        #expect(shownProxy?["username"] as? String == username)
      }

      // PUT replaces the whole config: a new sticky session, and no webhooks any more.
      let (first, _, _) = chips[0]
      try await waha.updateSession(
        name: first,
        config: SessionConfig(
          proxy: SessionProxy(server: "gw.dataimpulse.com:824", username: "br-user__cr.br;sessid.ffff00001111")))
      let updated = try #require(try await sim.simSession(first)?["config"] as? [String: Any])
      #expect((updated["proxy"] as? [String: Any])?["username"] as? String == "br-user__cr.br;sessid.ffff00001111")
      #expect((updated["proxy"] as? [String: Any])?["password"] == nil)
      #expect(updated["webhooks"] == nil && updated["metadata"] == nil)
      let untouched = try #require(try await sim.simSession(chips[1].0)?["config"] as? [String: Any])
      #expect((untouched["proxy"] as? [String: Any])?["password"] as? String == "pw-two")

      // Creating again is `sessionExists` (callers take it as done); updating a missing one is not found.
      await #expect(throws: WAHAError.sessionExists(first)) {
        try await waha.createSession(name: first, config: SessionConfig())
      }
      await #expect(throws: WAHAError.sessionNotFound("chip_missing")) {
        try await waha.updateSession(name: "chip_missing", config: SessionConfig())
      }
      // WAHA's name limit is 54 characters.
      try await waha.createSession(name: String(repeating: "a", count: 54), config: SessionConfig(), start: false)
      do {
        try await waha.createSession(name: String(repeating: "b", count: 55), config: SessionConfig(), start: false)
        Issue.record("a 55-character session name was accepted")
      } catch {
        guard case .rejected(let status, _) = error else { throw error }
        #expect(status == 400)
      }

      // Deleting is idempotent: the second delete finds nothing and still succeeds.
      try await waha.deleteSession(first)
      try await waha.deleteSession(first)
      #expect(try await sim.simSession(first) == nil)
      #expect(try await sim.simSession(chips[1].0) != nil)
      await #expect(throws: WAHAError.sessionNotFound(first)) { try await waha.session(first) }
    } catch {
      try? await sim.stop()
      throw error
    }
    try await sim.stop()
  }

  /// The whole life of a link: a new session asks for a QR (a valid PNG), a pairing code remembers
  /// the number, the phone's scan makes it WORKING under that number, a restart needs no new scan,
  /// a logout does.
  @Test func aNumberIsLinkedByQRAndStaysLinkedUntilLogout() async throws {
    let sim = try await Linking.start()
    let waha = sim.waha
    let chip = "chip_5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716"
    do {
      try await waha.createSession(name: chip, config: SessionConfig(metadata: ["chip": chip]))
      try await sim.waitForStatus(chip, "SCAN_QR_CODE")
      #expect(try await waha.me(chip) == nil)
      #expect(try await waha.session(chip).me == nil)

      // The QR as JSON is a real PNG, the same picture WAHA sends without the JSON Accept header.
      let qr = try await waha.qr(chip)
      #expect(qr.mimetype == "image/png")
      let png = try #require(qr.bytes)
      let image = try PNGFile(png)
      #expect(image.width == 116 && image.height == 116)
      #expect(image.bitDepth == 8 && image.colorType == 0)
      #expect(image.pixels.count == 116 * 116)
      #expect(Set(image.pixels) == [0, 255])
      let plain = try await sim.api("/api/\(chip)/auth/qr", accept: "image/png")
      #expect(plain.status == 200)
      #expect(plain.headers.first { $0.key.lowercased() == "content-type" }?.value == "image/png")
      #expect([UInt8](plain.body) == png)
      let firstValue = try #require(try await sim.qrValue(chip))
      #expect(firstValue.hasPrefix("2@"))

      // A pairing code: 8 letters and digits; the number (digits only) is remembered for the scan.
      let code = try await waha.requestPairingCode(session: chip, phoneNumber: "+55 (11) 98888-7777")
      #expect(code.wholeMatch(of: /[A-Z0-9]{4}-[A-Z0-9]{4}/) != nil, "\(code)")
      #expect(try await sim.simSession(chip)?["phone"] as? String == "5511988887777")
      do {
        _ = try await waha.requestPairingCode(session: chip, phoneNumber: "1234")
        Issue.record("a 4-digit number got a pairing code")
      } catch {
        guard case .rejected(let status, let message) = error else { throw error }
        #expect(status == 400)
        #expect(!message.contains("1234"), "\(message)")
      }

      // The phone scans: WORKING, as the number given with the pairing code.
      let (scanned, linked) = try await sim.control("POST", "/sessions/\(chip)/scan")
      #expect(scanned == 200)
      #expect((linked as? [String: Any])?["status"] as? String == "WORKING")
      let session = try await waha.session(chip)
      #expect(session.isWorking)
      #expect(session.me?.id == "5511988887777@c.us")
      #expect(try await waha.me(chip)?.id == "5511988887777@c.us")
      #expect(try await sim.simSession(chip)?["logged_in"] as? Bool == true)

      // Linked: no QR, no pairing code, no second scan.
      await #expect(throws: WAHAError.sessionNotWorking(session: chip, status: "WORKING")) {
        try await waha.qr(chip)
      }
      await #expect(throws: WAHAError.sessionNotWorking(session: chip, status: "WORKING")) {
        try await waha.requestPairingCode(session: chip, phoneNumber: "5511988887777")
      }
      let (again, _) = try await sim.control("POST", "/sessions/\(chip)/scan")
      #expect(again == 409)
      let rawWhileWorking = try await sim.api("/api/\(chip)/auth/qr", accept: "application/json")
      let refusal = try JSONSerialization.jsonObject(with: rawWhileWorking.body) as? [String: Any]
      #expect(rawWhileWorking.status == 422)
      #expect(refusal?["status"] as? String == "WORKING" && refusal?["expected"] as? [String] == ["SCAN_QR_CODE"])

      // A restart keeps the link: WORKING again without a scan (a QR would leave it waiting).
      try await waha.restart(chip)
      try await sim.waitForStatus(chip, "WORKING")
      #expect(try await waha.me(chip)?.id == "5511988887777@c.us")

      // A logout unlinks and stops; the next start asks for a QR again, a new one.
      try await waha.logout(chip)
      #expect(try await waha.session(chip).status == "STOPPED")
      #expect(try await waha.me(chip) == nil)
      #expect(try await sim.simSession(chip)?["logged_in"] as? Bool == false)
      try await waha.start(chip)
      try await sim.waitForStatus(chip, "SCAN_QR_CODE")
      let secondValue = try #require(try await sim.qrValue(chip))
      #expect(secondValue != firstValue)
      #expect(try await waha.qr(chip).bytes != png)

      // Scanned by another phone this time: that number is the account's.
      let (rescanned, _) = try await sim.control("POST", "/sessions/\(chip)/scan", ["phone": "5521977776666"])
      #expect(rescanned == 200)
      #expect(try await waha.me(chip)?.id == "5521977776666@c.us")

      // Every change was a session.status webhook, each entry into SCAN_QR_CODE too (WAHA has no qr
      // event); deliveries may arrive out of order, the history each one carries may not.
      let history = [
        "STARTING", "SCAN_QR_CODE", "WORKING", "STARTING", "WORKING", "STOPPED", "STARTING", "SCAN_QR_CODE", "WORKING",
      ]
      try await eventually("a webhook for every status change", within: .seconds(60)) {
        sim.reportedStatuses(chip).map(\.status).sorted() == history.sorted()
      }
      let carried = sim.reportedStatuses(chip).map(\.history).max { $0.count < $1.count } ?? []
      #expect(Array(carried.suffix(history.count)) == history)

      await #expect(throws: WAHAError.sessionNotFound("chip_missing")) { try await waha.qr("chip_missing") }
      try await waha.deleteSession(chip)
      await #expect(throws: WAHAError.sessionNotFound(chip)) { try await waha.me(chip) }
    } catch {
      try? await sim.stop()
      throw error
    }
    try await sim.stop()
  }

  /// `require_scan` is a setting like the others: off, a new session is WORKING without a scan.
  @Test func scanningCanBeTurnedOff() async throws {
    let sim = try await Linking.start()
    let waha = sim.waha
    do {
      let (status, answer) = try await sim.control("POST", "/config", ["require_scan": false])
      #expect(status == 200 && (answer as? [String: Any])?["require_scan"] as? Bool == false)
      let (bad, _) = try await sim.control("POST", "/config", ["require_scan": "yes"])
      #expect(bad == 400)

      try await waha.createSession(name: "chip_noscan", config: SessionConfig())
      try await sim.waitForStatus("chip_noscan", "WORKING")
      let me = try #require(try await waha.me("chip_noscan"))
      #expect(me.id.wholeMatch(of: /55119\d{8}@c\.us/) != nil, "\(me.id)")
      let (scanned, refusal) = try await sim.control("POST", "/sessions/chip_noscan/scan")
      #expect(scanned == 409)
      #expect(((refusal as? [String: Any])?["message"] as? String)?.contains("WORKING") == true)
      let (missing, _) = try await sim.control("POST", "/sessions/chip_missing/scan")
      #expect(missing == 404)
    } catch {
      try? await sim.stop()
      throw error
    }
    try await sim.stop()
  }

  /// The checker below against a PNG built by hand (a 1 × 1 black pixel), so a wrong CRC or Adler-32
  /// in it would show here rather than as a simulator bug.
  @Test func thePNGCheckerAcceptsAKnownPNGAndRejectsACorruptOne() throws {
    // zlib stream of the scanline [0 (filter), 0 (black)], stored.
    let idat: [UInt8] = [0x78, 0x01, 0x01, 0x02, 0x00, 0xFD, 0xFF, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01]
    func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
      let typed = Array(type.utf8) + data
      return PNGFile.be(UInt32(data.count)) + typed + PNGFile.be(PNGFile.crc32(typed))
    }
    let png =
      PNGFile.signature + chunk("IHDR", [0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]) + chunk("IDAT", idat)
      + chunk("IEND", [])
    let image = try PNGFile(png)
    #expect(image.width == 1 && image.height == 1 && image.pixels == [0])
    // The IEND chunk's CRC is the one every PNG ends with.
    #expect(Array(png.suffix(4)) == [0xAE, 0x42, 0x60, 0x82])
    var corrupt = png
    corrupt[20] ^= 1
    #expect(throws: PNGFile.Invalid.self) { try PNGFile(corrupt) }
  }
}

/// A PNG read as a decoder reads it, every check a decoder makes for the files the simulator writes:
/// the signature, each chunk's CRC-32, IHDR first and IEND last, the IDAT zlib stream (header, stored
/// deflate blocks with their length checks, Adler-32) and one filter byte per scanline.
struct PNGFile {
  struct Invalid: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
  }

  static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

  var width = 0
  var height = 0
  var bitDepth = 0
  var colorType = 0
  /// Grayscale bytes, rows top to bottom, filter bytes removed.
  var pixels: [UInt8] = []

  init(_ bytes: [UInt8]) throws {
    guard bytes.starts(with: Self.signature) else { throw Invalid("no PNG signature") }
    var offset = 8
    var types: [String] = []
    var compressed: [UInt8] = []
    while offset < bytes.count {
      guard offset + 12 <= bytes.count else { throw Invalid("truncated chunk at \(offset)") }
      let length = Int(Self.uint32(bytes, offset))
      guard offset + 12 + length <= bytes.count else { throw Invalid("chunk at \(offset) overruns the file") }
      let typed = Array(bytes[(offset + 4)..<(offset + 8 + length)])
      let type = String(decoding: typed.prefix(4), as: UTF8.self)
      let data = Array(typed.dropFirst(4))
      guard Self.uint32(bytes, offset + 8 + length) == Self.crc32(typed) else { throw Invalid("bad CRC in \(type)") }
      types.append(type)
      switch type {
      case "IHDR":
        guard data.count == 13 else { throw Invalid("IHDR is \(data.count) bytes") }
        width = Int(Self.uint32(data, 0))
        height = Int(Self.uint32(data, 4))
        bitDepth = Int(data[8])
        colorType = Int(data[9])
        guard data[10] == 0, data[11] == 0, data[12] == 0 else { throw Invalid("unknown compression/filter/interlace") }
      case "IDAT": compressed += data
      default: break
      }
      offset += 12 + length
    }
    guard types.first == "IHDR", types.last == "IEND", types.contains("IDAT") else {
      throw Invalid("chunks out of order: \(types)")
    }
    guard bitDepth == 8, colorType == 0 else { throw Invalid("only 8-bit grayscale is checked here") }
    let raw = try Self.inflateStored(compressed)
    guard raw.count == height * (width + 1) else { throw Invalid("\(raw.count) bytes of scanlines") }
    for row in 0..<height {
      guard raw[row * (width + 1)] == 0 else { throw Invalid("row \(row) has filter \(raw[row * (width + 1)])") }
      pixels += raw[(row * (width + 1) + 1)..<((row + 1) * (width + 1))]
    }
  }

  /// A zlib stream of stored deflate blocks, checked and unpacked.
  static func inflateStored(_ stream: [UInt8]) throws -> [UInt8] {
    guard stream.count >= 6, stream[0] & 0x0F == 8, (Int(stream[0]) << 8 | Int(stream[1])) % 31 == 0,
      stream[1] & 0x20 == 0
    else { throw Invalid("bad zlib header") }
    var offset = 2
    var out: [UInt8] = []
    var final = false
    while !final {
      guard offset + 5 <= stream.count else { throw Invalid("truncated deflate block") }
      final = stream[offset] & 1 == 1
      guard (stream[offset] >> 1) & 3 == 0 else { throw Invalid("not a stored block") }
      let length = Int(stream[offset + 1]) | Int(stream[offset + 2]) << 8
      let complement = Int(stream[offset + 3]) | Int(stream[offset + 4]) << 8
      guard length ^ complement == 0xFFFF else { throw Invalid("LEN and NLEN disagree") }
      offset += 5
      guard offset + length <= stream.count else { throw Invalid("stored block overruns") }
      out += stream[offset..<(offset + length)]
      offset += length
    }
    guard offset + 4 == stream.count else { throw Invalid("\(stream.count - offset) bytes after the last block") }
    var a: UInt32 = 1
    var b: UInt32 = 0
    for byte in out {
      a = (a + UInt32(byte)) % 65_521
      b = (b + a) % 65_521
    }
    guard uint32(stream, offset) == b << 16 | a else { throw Invalid("bad Adler-32") }
    return out
  }

  /// CRC-32 bit by bit, with no table, so it shares nothing with the simulator's.
  static func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
      crc ^= UInt32(byte)
      for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
  }

  static func uint32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
  }

  static func be(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
  }
}
