import Foundation
import Hummingbird
import NIOCore
import Wire

/// `/_sim`: what tests use to steer the simulator and to read what it charged. Not part of any
/// gateway, and never behind a key.
struct ControlRoutes {
  let settings: LiveSettings
  let log: ChargeLog

  func register(on router: Router<some RequestContext>) {
    let sim = router.group("_sim")
    sim.get("config") { _, _ in GatewayReply(code: 200, body: settings.current.json).response() }
    sim.post("config") { request, _ in
      let patch = try await Incoming.object(request, invalid: Self.invalidOne)
      return GatewayReply(code: 200, body: try settings.update(patch).json).response()
    }
    sim.get("charges") { _, _ in
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      return Response(
        status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(log.all()))))
    }
    sim.delete("charges") { _, _ in
      log.clear()
      return Response(status: .noContent)
    }
  }

  static func invalid(_ problems: [String]) -> GatewayReply {
    GatewayReply(code: 400, body: ["message": .array(problems.map { .string($0) })])
  }

  static func invalidOne(_ problem: String) -> GatewayReply { invalid([problem]) }
}
