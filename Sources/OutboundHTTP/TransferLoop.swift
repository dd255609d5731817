import CCurl
import CCurlShim
import Foundation
import NativeThreads
import Synchronization

/// The thread that owns a libcurl multi handle: it adds queued transfers, drives them all with
/// `curl_multi_perform`, sleeps in `curl_multi_poll` until a socket or `submit` wakes it, and
/// resumes each caller when its transfer ends. Only `curl_multi_wakeup` is called from other
/// threads, and only under the queue's lock while the loop is open: the thread frees the multi
/// handle under the same lock once closed, so no wakeup can reach a freed handle (closing twice,
/// as `close()` then `deinit` do, is harmless).
final class TransferLoop: @unchecked Sendable {
  private struct Queue {
    var transfers: [Transfer] = []
    var closed = false
  }
  private var thread: JoinableThread?

  private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

  private let options: HTTPClient.Options
  private let queue = Mutex(Queue())
  private let multi: UnsafeMutableRawPointer

  init(options: HTTPClient.Options) {
    _ = Self.globalInit
    self.options = options
    multi = curl_multi_init()
    whago_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, options.connectionsPerHost)
    thread = JoinableThread(name: "whago.http") { [self] in self.run() }
  }

  func submit(_ transfer: Transfer) {
    let accepted = queue.withLock { queue -> Bool in
      if queue.closed { return false }
      queue.transfers.append(transfer)
      curl_multi_wakeup(multi)
      return true
    }
    if !accepted {
      transfer.continuation.resume(
        returning: .failure(HTTPClientError(kind: .closed, url: HTTPClientError.safe(transfer.request.url), detail: ""))
      )
    }
  }

  func close() {
    queue.withLock { queue in
      if queue.closed { return }
      queue.closed = true
      curl_multi_wakeup(multi)
    }
  }

  /// Closes, then returns once the transfer thread has freed the multi handle and exited.
  func shutdown() async {
    close()
    await thread?.join()
  }

  private func run() {
    var active: [UnsafeMutableRawPointer: Transfer] = [:]
    while true {
      let (incoming, closed) = queue.withLock { queue -> ([Transfer], Bool) in
        defer { queue.transfers.removeAll() }
        return (queue.transfers, queue.closed)
      }
      if closed {
        for transfer in incoming + Array(active.values) {
          if let easy = transfer.easy { curl_multi_remove_handle(multi, easy) }
          transfer.release()
          transfer.continuation.resume(
            returning: .failure(
              HTTPClientError(kind: .closed, url: HTTPClientError.safe(transfer.request.url), detail: "")))
        }
        // Under the lock: closed is set, so no caller wakes the handle again after this.
        _ = queue.withLock { _ in curl_multi_cleanup(multi) }
        return
      }
      for transfer in incoming {
        if let error = start(transfer) {
          transfer.release()
          transfer.continuation.resume(returning: .failure(error))
        } else if let easy = transfer.easy {
          active[easy] = transfer
        }
      }
      var running: Int32 = 0
      curl_multi_perform(multi, &running)
      var left: Int32 = 0
      while let message = curl_multi_info_read(multi, &left) {
        guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
          let transfer = active.removeValue(forKey: easy)
        else { continue }
        let code = whago_curl_msg_result(message)
        curl_multi_remove_handle(multi, easy)
        let result = finish(transfer, code: code)
        transfer.release()
        transfer.continuation.resume(returning: result)
      }
      curl_multi_poll(multi, nil, 0, 1000, nil)
    }
  }

  /// Sets up the easy handle for `transfer` and adds it to the multi handle.
  private func start(_ transfer: Transfer) -> HTTPClientError? {
    let request = transfer.request
    let safeURL = HTTPClientError.safe(request.url)
    guard let easy = curl_easy_init() else {
      return HTTPClientError(kind: .invalidRequest, url: safeURL, detail: "curl_easy_init failed")
    }
    transfer.easy = easy
    transfer.maxBody = options.maxResponseBytes
    let me = Unmanaged.passUnretained(transfer).toOpaque()
    var ok = whago_curl_setopt_ptr(easy, CURLOPT_URL, transfer.keep(request.url)) == CURLE_OK
    ok = ok && whago_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1) == CURLE_OK
    ok = ok && whago_curl_setopt_long(easy, CURLOPT_TIMEOUT_MS, Int(max(1, request.timeout.milliseconds))) == CURLE_OK
    ok =
      ok
      && whago_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int(max(1, options.connectTimeout.milliseconds)))
        == CURLE_OK
    ok = ok && whago_curl_setopt_ptr(easy, CURLOPT_USERAGENT, transfer.keep(options.userAgent)) == CURLE_OK
    ok =
      ok
      && whago_curl_setopt_write(
        easy,
        { data, size, count, user in
          guard let data, let user else { return 0 }
          let transfer = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
          guard transfer.body.count + size * count <= transfer.maxBody else {
            // Fewer bytes taken than given: libcurl stops the transfer with CURLE_WRITE_ERROR.
            transfer.tooLarge = true
            return 0
          }
          transfer.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: size * count))
          return size * count
        }) == CURLE_OK
    ok = ok && whago_curl_setopt_ptr(easy, CURLOPT_WRITEDATA, me) == CURLE_OK
    ok =
      ok
      && whago_curl_setopt_header(
        easy,
        { data, size, count, user in
          guard let data, let user else { return 0 }
          let transfer = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
          let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size * count), as: UTF8.self)
          // A new status line (after a 100 Continue or a redirect) starts a new set of headers.
          if line.hasPrefix("HTTP/") { transfer.headerLines.removeAll() } else { transfer.headerLines.append(line) }
          return size * count
        }) == CURLE_OK
    ok = ok && whago_curl_setopt_ptr(easy, CURLOPT_HEADERDATA, me) == CURLE_OK
    if let path = request.unixSocketPath {
      ok = ok && whago_curl_setopt_ptr(easy, CURLOPT_UNIX_SOCKET_PATH, transfer.keep(path)) == CURLE_OK
    } else if let policy = options.addressPolicy, !request.operatorAddress {
      // The policy judges IP addresses; a unix socket has none (see `OutboundRequest.unixSocketPath`).
      transfer.addressPolicy = policy
      ok = ok && whago_curl_setopt_opensocket(easy, Self.openSocket) == CURLE_OK
      ok = ok && whago_curl_setopt_ptr(easy, CURLOPT_OPENSOCKETDATA, me) == CURLE_OK
    }

    let method = request.method.uppercased()
    if let body = request.body {
      ok = ok && whago_curl_setopt_long(easy, CURLOPT_POSTFIELDSIZE, body.count) == CURLE_OK
      ok =
        ok && body.withUnsafeBytes { whago_curl_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) } == CURLE_OK
      if method != "POST" {
        ok = ok && whago_curl_setopt_ptr(easy, CURLOPT_CUSTOMREQUEST, transfer.keep(method)) == CURLE_OK
      }
    } else if method == "HEAD" {
      ok = ok && whago_curl_setopt_long(easy, CURLOPT_NOBODY, 1) == CURLE_OK
    } else if method != "GET" {
      ok = ok && whago_curl_setopt_ptr(easy, CURLOPT_CUSTOMREQUEST, transfer.keep(method)) == CURLE_OK
    }
    // No `Expect: 100-continue` round trip for request bodies.
    var list = curl_slist_append(nil, "Expect:")
    for header in request.headers {
      list = curl_slist_append(list, "\(header.name): \(header.value)")
    }
    transfer.headerList = list
    ok = ok && whago_curl_setopt_ptr(easy, CURLOPT_HTTPHEADER, list) == CURLE_OK
    guard ok else { return HTTPClientError(kind: .invalidRequest, url: safeURL, detail: "libcurl refused an option") }
    guard curl_multi_add_handle(multi, easy) == CURLM_OK else {
      return HTTPClientError(kind: .invalidRequest, url: safeURL, detail: "libcurl refused the transfer")
    }
    return nil
  }

  /// Opens a connection's socket unless the address policy refuses where it goes; a refusal
  /// fails the connection (CURLE_COULDNT_CONNECT) before a byte is sent.
  private static let openSocket:
    @convention(c) (UnsafeMutableRawPointer?, curlsocktype, UnsafeMutablePointer<curl_sockaddr>?)
      -> curl_socket_t = { user, _, address in
        guard let user, let address else { return CURL_SOCKET_BAD }
        let transfer = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
        let family = address.pointee.family
        let raw = UnsafeRawPointer(whago_curl_sockaddr_address(address)!)
        var bytes: [UInt8]?
        if family == AF_INET {
          var inet = raw.loadUnaligned(as: sockaddr_in.self).sin_addr
          bytes = withUnsafeBytes(of: &inet) { Array($0) }
        } else if family == AF_INET6 {
          var inet6 = raw.loadUnaligned(as: sockaddr_in6.self).sin6_addr
          bytes = withUnsafeBytes(of: &inet6) { Array($0) }
        }
        if let bytes, let policy = transfer.addressPolicy, !policy.permits(bytes) {
          transfer.refusedAddress = bytes
          return CURL_SOCKET_BAD
        }
        return socket(family, address.pointee.socktype, address.pointee.protocol)
      }

  private func finish(_ transfer: Transfer, code: CURLcode) -> Result<OutboundResponse, HTTPClientError> {
    let url = HTTPClientError.safe(transfer.request.url)
    // Refused only if no address was left to try: with several (::1 and 127.0.0.1), one allowed
    // may have answered.
    if code != CURLE_OK, let refused = transfer.refusedAddress {
      return .failure(
        HTTPClientError(
          kind: .forbiddenAddress, url: url,
          detail:
            "\(AddressRange.text(of: refused)) is a loopback, private or link-local address; operators allow "
            + "their own networks with \(AddressPolicy.environmentVariable)"))
    }
    if transfer.tooLarge {
      return .failure(
        HTTPClientError(
          kind: .responseTooLarge, url: url, detail: "more than \(transfer.maxBody) bytes; cut there"))
    }
    guard code == CURLE_OK else {
      let detail = String(cString: curl_easy_strerror(code))
      switch code {
      case CURLE_OPERATION_TIMEDOUT:
        return .failure(HTTPClientError(kind: .timeout, url: url, detail: detail))
      case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
        let socket = transfer.request.unixSocketPath.map { " (unix socket \($0))" } ?? ""
        return .failure(HTTPClientError(kind: .connect, url: url, detail: detail + socket))
      case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
        return .failure(HTTPClientError(kind: .invalidRequest, url: url, detail: detail))
      default:
        return .failure(HTTPClientError(kind: .transfer, url: url, detail: detail))
      }
    }
    var status = 0
    if let easy = transfer.easy { whago_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status) }
    var headers: [String: String] = [:]
    for line in transfer.headerLines {
      guard let colon = line.firstIndex(of: ":") else { continue }
      let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
      headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
    }
    return .success(OutboundResponse(status: status, headers: headers, body: transfer.body))
  }
}

extension Duration {
  var milliseconds: Int64 {
    components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
  }
}
