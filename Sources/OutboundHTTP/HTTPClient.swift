import CCurl
import CCurlShim
import Foundation
import Synchronization

/// HTTP over libcurl's multi interface: one thread drives every transfer of this client, so many
/// requests are in flight without a thread each, connections are reused (keep-alive) per host, and
/// no blocking C call runs on Swift's cooperative pool.
public final class HTTPClient: Sendable {
  public struct Options: Sendable {
    /// Connections kept open per host for reuse.
    public var connectionsPerHost = 16
    public var connectTimeout: Duration = .seconds(5)
    public var userAgent = "whago-jobs"
    /// The longest answer body taken: past it the transfer is cut and fails with
    /// `.responseTooLarge`, so a hostile or broken server cannot stream a worker out of memory.
    /// WAHA's and the gateways' answers are kilobytes; a media download is not read through here.
    public var maxResponseBytes = 8 << 20
    /// Which addresses connections may reach, checked on the address actually connected to;
    /// nil reaches any (for the destinations operators configure, like payment gateways).
    public var addressPolicy: AddressPolicy?
    public init() {}
  }

  private let loop: TransferLoop

  public init(options: Options = Options()) {
    loop = TransferLoop(options: options)
  }

  deinit {
    loop.close()
  }

  /// Stops the transfer thread after failing what is still pending with `.closed`.
  public func close() {
    loop.close()
  }

  /// Closes and returns once the transfer thread is gone: a process calls this before it exits,
  /// so libcurl is not torn down while the process's exit handlers free OpenSSL.
  public func shutdown() async {
    await loop.shutdown()
  }

  /// Sends `request` and returns the answer, whatever its status.
  public func send(_ request: OutboundRequest) async throws(HTTPClientError) -> OutboundResponse {
    let result: Result<OutboundResponse, HTTPClientError> = await withCheckedContinuation { continuation in
      loop.submit(Transfer(request: request, continuation: continuation))
    }
    return try result.get()
  }
}

/// One request in flight: the C strings and lists curl reads during the transfer live here until it ends.
final class Transfer: @unchecked Sendable {
  let request: OutboundRequest
  let continuation: CheckedContinuation<Result<OutboundResponse, HTTPClientError>, Never>
  var body: [UInt8] = []
  /// The most body bytes taken; set when the transfer starts.
  var maxBody = Int.max
  /// The body passed `maxBody` and the transfer was cut.
  var tooLarge = false
  /// What connections may reach; nil: anywhere.
  var addressPolicy: AddressPolicy?
  /// The address a connection was refused for, by `addressPolicy`.
  var refusedAddress: [UInt8]?
  var headerLines: [String] = []
  var easy: UnsafeMutableRawPointer?
  var headerList: UnsafeMutablePointer<curl_slist>?
  var cStrings: [UnsafeMutablePointer<CChar>] = []

  init(request: OutboundRequest, continuation: CheckedContinuation<Result<OutboundResponse, HTTPClientError>, Never>) {
    self.request = request
    self.continuation = continuation
  }

  func keep(_ text: String) -> UnsafeMutablePointer<CChar> {
    let copy = strdup(text)!
    cStrings.append(copy)
    return copy
  }

  func release() {
    if let easy { curl_easy_cleanup(easy) }
    if let headerList { curl_slist_free_all(headerList) }
    cStrings.forEach { free($0) }
    easy = nil
    headerList = nil
    cStrings = []
  }
}
