import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `whago serve` closes connections that send nothing: an idle one, and one that stopped halfway
/// through its headers (the start of a slowloris). Meanwhile it answers everyone else.
@Suite struct IdleConnectionTests {
  /// A raw TCP connection to 127.0.0.1:`port`.
  final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
      fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      var address = sockaddr_in()
      address.sin_family = sa_family_t(AF_INET)
      address.sin_addr.s_addr = inet_addr("127.0.0.1")
      address.sin_port = in_port_t(UInt16(port).bigEndian)
      let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
      }
      guard connected else { throw TestSetupError("cannot connect to 127.0.0.1:\(port)") }
    }

    func send(_ text: String) {
      _ = text.withCString { Glibc.send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }

    /// Whether the server closed it: a read that does not wait finds the end of the stream.
    var closedByServer: Bool {
      var byte: UInt8 = 0
      return recv(fd, &byte, 1, Int32(MSG_DONTWAIT)) == 0
    }

    deinit { close(fd) }
  }

  @Test func idleAndHalfSentConnectionsAreClosedAndOthersStillServed() async throws {
    try await TestDatabase.migrate()
    try await ServeProcess.with(extra: ["--idle-timeout", "1s"]) { serve in
      let idle = try RawConnection(port: serve.port)
      let halfway = try RawConnection(port: serve.port)
      halfway.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
      #expect(!idle.closedByServer && !halfway.closedByServer)
      #expect(try await HTTP.send("GET", serve.base + "/healthz").status == 200)
      try await eventually("the server to close both", within: .seconds(30), every: .milliseconds(100)) {
        idle.closedByServer && halfway.closedByServer
      }
      #expect(try await HTTP.send("GET", serve.base + "/healthz").status == 200)
    }
  }
}
