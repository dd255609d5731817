import Foundation
import Hummingbird
import OutboundHTTP
import Synchronization
import TestSupport
import Testing

/// Requests made on a tenant's behalf do not reach our own network: the address connected to is
/// checked after the name is resolved, and a refused connection sends nothing.
@Suite struct AddressPolicyTests {
  /// An address's bytes; an empty array (which no range holds) if the text is not one.
  func bytes(_ text: String) -> [UInt8] { AddressRange.bytes(of: text) ?? [] }

  final class Hits: Sendable {
    let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
  }

  @Test func rangesReadAsWrittenAndHoldWhatTheySay() throws {
    let ten = try AddressRange("10.0.0.0/8")
    #expect(ten.contains(bytes("10.255.1.2")) && !ten.contains(bytes("11.0.0.1")))
    #expect(try AddressRange(" 192.0.2.7 ").description == "192.0.2.7/32")
    let odd = try AddressRange("100.64.0.0/10")
    #expect(odd.contains(bytes("100.127.255.255")) && !odd.contains(bytes("100.128.0.0")))
    #expect(try AddressRange("fd00::/8").contains(bytes("fd12::1")))
    // An IPv4 address is never in an IPv6 block, nor the other way round.
    #expect(!(try AddressRange("::/0")).contains(bytes("1.2.3.4")))
    for bad in ["10.0.0.0/33", "example.com", "10.0.0.0/x", "", "::1/129"] {
      #expect(throws: AddressRangeError.self, "\(bad)") { try AddressRange(bad) }
    }
    #expect(throws: AddressRangeError.self) { try AddressPolicy(allowList: "127.0.0.0/8,nonsense") }
    #expect(try AddressPolicy(allowList: " 127.0.0.0/8 , fd00::/8,").allowed.count == 2)
  }

  @Test func internalAddressesAreRefusedUnlessAllowed() throws {
    let strict = AddressPolicy()
    for text in [
      "127.0.0.1", "10.1.2.3", "172.20.0.5", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
      "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fd00::5", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
    ] {
      #expect(!strict.permits(bytes(text)), "\(text) is internal")
    }
    for text in ["8.8.8.8", "172.32.0.1", "192.169.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"] {
      #expect(strict.permits(bytes(text)), "\(text) is on the internet")
    }
    let loopback = try AddressPolicy(allowList: "127.0.0.0/8")
    #expect(loopback.permits(bytes("127.0.0.1")) && loopback.permits(bytes("::ffff:127.0.0.2")))
    #expect(!loopback.permits(bytes("10.0.0.1")) && !loopback.permits(bytes("169.254.169.254")))

    // At the door, hosts as written: literals and localhost; other names wait for the connection.
    #expect(strict.refusal(host: "169.254.169.254")?.contains("WHAGO_OUTBOUND_ALLOW") == true)
    #expect(strict.refusal(host: "LOCALHOST") != nil && strict.refusal(host: "api.localhost") != nil)
    #expect(strict.refusal(host: "waha.example.com") == nil && strict.refusal(host: "8.8.8.8") == nil)
    #expect(loopback.refusal(host: "127.0.0.1") == nil && loopback.refusal(host: "localhost") == nil)
  }

  /// Tried against a real server on loopback, by name and by number: with the default policy no
  /// request reaches it, and the error says which address and how operators allow it; allowed,
  /// the same requests go through.
  @Test func aConnectionToARefusedAddressSendsNothing() async throws {
    let received = Hits()
    let router = Router()
    router.get("hit") { _, _ in
      received.count.withLock { $0 += 1 }
      return "hit"
    }
    let server = try await InProcessServer(router: router, label: "address-policy-test-server")
    do {
      try await tryConnections(server: server, received: received)
    } catch {
      await server.stop()
      throw error
    }
    await server.stop()
  }

  func tryConnections(server: InProcessServer, received: Hits) async throws {
    let port = try #require(URLComponents(string: server.base)?.port)
    let open = HTTPClient()
    defer { open.close() }
    try await eventually("the test server to listen") {
      (try? await open.send(OutboundRequest(url: server.base + "/hit")))?.status == 200
    }
    let before = received.value

    var options = HTTPClient.Options()
    options.addressPolicy = AddressPolicy()
    let strict = HTTPClient(options: options)
    defer { strict.close() }
    for host in ["127.0.0.1", "localhost", "127.1.2.3"] {
      let url = "http://\(host):\(port)/hit?token=secret"
      do {
        let reply = try await strict.send(OutboundRequest(url: url, timeout: .seconds(10)))
        Issue.record("\(host): a refused address answered \(reply.status)")
      } catch {
        #expect(error.kind == .forbiddenAddress, "\(host): \(error)")
        // localhost is refused as ::1 or 127.0.0.1, whichever curl tried last.
        let named = "\(error)".contains("127.") || "\(error)".contains("::1")
        #expect("\(error)".contains("WHAGO_OUTBOUND_ALLOW") && named, "\(error)")
        #expect(!"\(error)".contains("secret"))
      }
    }
    #expect(received.value == before, "no refused request reached the server")

    options.addressPolicy = try AddressPolicy(allowList: "127.0.0.0/8")
    let allowed = HTTPClient(options: options)
    defer { allowed.close() }
    #expect(try await allowed.send(OutboundRequest(url: "http://localhost:\(port)/hit")).status == 200)
    #expect(try await allowed.send(OutboundRequest(url: "http://127.0.0.1:\(port)/hit")).status == 200)
    #expect(received.value == before + 2)
  }
}
