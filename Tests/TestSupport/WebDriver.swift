import Dispatch
import Foundation

/// A real headless Chromium driven over the W3C WebDriver protocol (through chromedriver), just
/// enough of it for tests to use a page the way a person does: open, find, type, click, read.
public final class WebDriver: Sendable {
  /// What the driver answered instead of a value (`no such element`, `stale element reference`…).
  public struct Failure: Error, CustomStringConvertible {
    public let error: String
    public let message: String
    public var description: String { "WebDriver \(error): \(message.prefix(400))" }
    /// The element was replaced (e.g. by the page's refresh) after it was found: find it again.
    public var isStale: Bool { error == "stale element reference" || error == "no such element" }
  }

  /// An element of the current page, as the driver names it.
  public struct Element: Sendable {
    public let id: String
  }

  /// The key W3C WebDriver puts element references under.
  static let elementKey = "element-6066-11e4-a52e-4f735466cecf"

  private let driver: ChildProcess
  private let port: Int
  private let session: String

  /// Starts chromedriver on a port of the kernel's choosing and a headless Chromium session in it.
  public init() async throws {
    let environment = ProcessInfo.processInfo.environment
    let chromedriver = environment["WHAGO_CHROMEDRIVER"] ?? "/usr/bin/chromedriver"
    let chromium = environment["WHAGO_CHROMIUM"] ?? "/usr/bin/chromium"
    for path in [chromedriver, chromium] where !FileManager.default.isExecutableFile(atPath: path) {
      throw TestSetupError("\(path) is missing: install the Debian packages chromium and chromium-driver")
    }
    let child = try ChildProcess(executable: chromedriver, arguments: ["--port=0"], label: "chromedriver")
    let port = try await child.listeningPort(after: "started successfully on port ")
    driver = child
    self.port = port
    try await eventually("chromedriver to answer /status", within: .seconds(30), every: .milliseconds(50)) {
      if !child.isRunning { throw TestSetupError("chromedriver exited: \(child.output)") }
      let value = try? await Self.call(port: port, "GET", "/status", nil) as? [String: Any]
      return value?["ready"] as? Bool == true
    }
    let capabilities: [String: Any] = [
      "capabilities": [
        "alwaysMatch": [
          "browserName": "chrome",
          "goog:chromeOptions": [
            "binary": chromium,
            "args": [
              "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
            ],
          ],
        ]
      ]
    ]
    do {
      let value = try await Self.call(port: port, "POST", "/session", capabilities)
      guard let id = (value as? [String: Any])?["sessionId"] as? String else {
        throw TestSetupError("chromedriver gave no session id: \(String(describing: value))")
      }
      session = id
    } catch {
      driver.signal(SIGKILL)
      throw error
    }
  }

  /// Runs `body` with a fresh browser and always closes it, whatever `body` does.
  public static func withBrowser<T: Sendable>(_ body: (WebDriver) async throws -> T) async throws -> T {
    let browser = try await WebDriver()
    do {
      let result = try await body(browser)
      await browser.quit()
      return result
    } catch {
      // What the browser showed when it went wrong, for the person reading the failure.
      let path = NSTemporaryDirectory() + "whago-webdriver-\(UUID().uuidString.prefix(8)).png"
      if let png = try? await browser.screenshot(), (try? png.write(to: URL(fileURLWithPath: path))) != nil {
        print("WebDriver: the page at the failure is in \(path)")
      }
      await browser.quit()
      throw error
    }
  }

  /// Ends the session (which closes Chromium) and stops chromedriver. It is asked over HTTP:
  /// children of the test process inherit its blocked signal mask, so a SIGTERM would never land.
  public func quit() async {
    _ = try? await Self.call(port: port, "DELETE", "/session/\(session)", nil)
    _ = try? await LoopbackHTTP.exchange(port: port, method: "GET", path: "/shutdown", body: nil)
    if (try? await driver.waitForExit(within: .seconds(5))) == nil { driver.signal(SIGKILL) }
  }

  // MARK: The page

  /// Loads `url` and returns once the page has loaded.
  public func open(_ url: String) async throws {
    _ = try await command("POST", "url", ["url": url])
  }

  public func currentURL() async throws -> String {
    try await command("GET", "url") as? String ?? ""
  }

  public func source() async throws -> String {
    try await command("GET", "source") as? String ?? ""
  }

  public func title() async throws -> String {
    try await command("GET", "title") as? String ?? ""
  }

  /// The viewport as PNG, for looking at what a failing test saw.
  public func screenshot() async throws -> Data {
    Data(base64Encoded: try await command("GET", "screenshot") as? String ?? "") ?? Data()
  }

  /// A cookie of the current page as the browser keeps it (`name`, `value`, `httpOnly`, `sameSite`, `path`…).
  public func cookie(_ name: String) async throws -> [String: Any]? {
    do {
      return try await command("GET", "cookie/\(name)") as? [String: Any]
    } catch let failure as Failure where failure.error == "no such cookie" {
      return nil
    }
  }

  /// Accepts the `confirm()` the page opened (e.g. "Delete for good?"), once it is open.
  public func acceptAlert() async throws {
    try await eventually("a dialog to accept", within: .seconds(10), every: .milliseconds(50)) {
      do {
        _ = try await command("POST", "alert/accept", [String: Any]())
        return true
      } catch let failure as Failure where failure.error == "no such alert" {
        return false
      }
    }
  }

  // MARK: Elements

  /// The first element matching the CSS `selector`; throws `Failure` (`no such element`) if none.
  public func find(_ selector: String) async throws -> Element {
    try Self.element(try await command("POST", "element", ["using": "css selector", "value": selector]))
  }

  /// Every element matching `selector` (none is not an error).
  public func findAll(_ selector: String) async throws -> [Element] {
    let values = try await command("POST", "elements", ["using": "css selector", "value": selector]) as? [Any] ?? []
    return try values.map(Self.element)
  }

  /// The element's rendered text, as a person reads it.
  public func text(_ element: Element) async throws -> String {
    try await command("GET", "element/\(element.id)/text") as? String ?? ""
  }

  public func attribute(_ element: Element, _ name: String) async throws -> String? {
    try await command("GET", "element/\(element.id)/attribute/\(name)") as? String
  }

  public func click(_ element: Element) async throws {
    _ = try await command("POST", "element/\(element.id)/click", [String: Any]())
  }

  public func type(_ text: String, into element: Element) async throws {
    _ = try await command("POST", "element/\(element.id)/value", ["text": text])
  }

  /// The text of the first element matching `selector`.
  public func text(of selector: String) async throws -> String {
    try await refinding(selector) { try await self.text($0) }
  }

  /// An attribute of the first element matching `selector`.
  public func attribute(of selector: String, _ name: String) async throws -> String? {
    try await refinding(selector) { try await self.attribute($0, name) }
  }

  /// Finds `selector` and reads it, finding it again if the page replaced it in between (pages
  /// that refresh themselves do), so a test never fails on that race.
  private func refinding<T>(_ selector: String, _ read: (Element) async throws -> T) async throws -> T {
    var attempt = 0
    while true {
      do {
        return try await read(try await find(selector))
      } catch let failure as Failure where failure.isStale && attempt < 20 {
        attempt += 1
        try await Task.sleep(for: .milliseconds(100))
      }
    }
  }

  // MARK: Protocol

  private func command(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
    try await Self.call(port: port, method, "/session/\(session)/\(path)", body)
  }

  private static func element(_ value: Any?) throws -> Element {
    guard let id = (value as? [String: Any])?[elementKey] as? String else {
      throw TestSetupError("not an element reference: \(String(describing: value))")
    }
    return Element(id: id)
  }

  /// One WebDriver command: the answer's `value`, or its error as `Failure`.
  private static func call(port: Int, _ method: String, _ path: String, _ body: [String: Any]?) async throws -> Any? {
    let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
    let reply = try await LoopbackHTTP.exchange(port: port, method: method, path: path, body: data)
    let json = try JSONSerialization.jsonObject(with: reply.body.isEmpty ? Data("{}".utf8) : reply.body)
    let value = (json as? [String: Any])?["value"]
    if reply.status >= 400 || (value as? [String: Any])?["error"] is String {
      let fields = value as? [String: Any] ?? [:]
      throw Failure(
        error: fields["error"] as? String ?? "http \(reply.status)", message: fields["message"] as? String ?? "")
    }
    return value is NSNull ? nil : value
  }
}

/// HTTP/1.1 to a server on 127.0.0.1 over a plain socket. URLSession on Linux cannot talk to
/// chromedriver: it writes `Content-Length:250` with no space after the colon, and
/// swift-corelibs-foundation fails those responses with "Failed writing header".
enum LoopbackHTTP {
  static func exchange(port: Int, method: String, path: String, body: Data?) async throws -> (status: Int, body: Data) {
    // The socket blocks (a navigation can take seconds): on a GCD thread, not the test's executor.
    try await withCheckedThrowingContinuation { continuation in
      DispatchQueue.global().async {
        continuation.resume(with: Result { try blockingExchange(port: port, method: method, path: path, body: body) })
      }
    }
  }

  private static func blockingExchange(port: Int, method: String, path: String, body: Data?) throws -> (Int, Data) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSetupError("socket() failed") }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 120, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
      }
    }
    guard connected else { throw TestSetupError("cannot connect to 127.0.0.1:\(port): errno \(errno)") }

    let payload = body ?? Data()
    var request = Data(
      """
      \(method) \(path) HTTP/1.1\r
      Host: 127.0.0.1:\(port)\r
      Connection: close\r
      Accept: application/json\r
      Content-Type: application/json; charset=utf-8\r
      Content-Length: \(payload.count)\r
      \r

      """.utf8)
    request.append(payload)
    try request.withUnsafeBytes { raw in
      var sent = 0
      while sent < raw.count {
        let n = send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
        guard n > 0 else { throw TestSetupError("send to 127.0.0.1:\(port) failed: errno \(errno)") }
        sent += n
      }
    }

    var received = Data()
    var buffer = [UInt8](repeating: 0, count: 64 << 10)
    var headerEnd: Int?
    var length: Int?
    while true {
      if let end = headerEnd, let length, received.count - end >= length { break }
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n == 0 { break }
      guard n > 0 else { throw TestSetupError("no answer from 127.0.0.1:\(port): errno \(errno)") }
      received.append(contentsOf: buffer[0..<n])
      if headerEnd == nil, let range = received.range(of: Data("\r\n\r\n".utf8)) {
        headerEnd = range.upperBound
        for line in String(decoding: received[..<range.lowerBound], as: UTF8.self).split(separator: "\r\n") {
          let parts = line.split(separator: ":", maxSplits: 1)
          if parts.count == 2, parts[0].lowercased() == "content-length" {
            length = Int(parts[1].trimmingCharacters(in: .whitespaces))
          }
        }
      }
    }
    guard let end = headerEnd else { throw TestSetupError("no HTTP answer from 127.0.0.1:\(port)") }
    let statusLine = String(decoding: received.prefix(while: { $0 != 13 }), as: UTF8.self).split(separator: " ")
    guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
      throw TestSetupError("bad HTTP status line from 127.0.0.1:\(port)")
    }
    let bodyBytes = received[end...]
    return (status, Data(length.map { bodyBytes.prefix($0) } ?? bodyBytes))
  }
}
