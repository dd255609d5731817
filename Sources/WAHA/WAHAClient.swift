import Foundation
import OutboundHTTP

/// One WAHA server (one tenant's container), reached with its API key. Every method maps WAHA's
/// answers to `WAHAError` by what the caller must do: retry, defer the chip, or fail the message.
public struct WAHAClient: Sendable {
  public let baseURL: String
  private let apiKey: String?
  private let http: HTTPClient
  private let timeout: Duration

  /// Whether `baseURL` is one of whago's own containers (a managed chip's), not an address a
  /// tenant chose: the HTTP client's address policy is then not applied.
  private let ownContainer: Bool

  public init(
    baseURL: String, apiKey: String?, http: HTTPClient, timeout: Duration = .seconds(30), ownContainer: Bool = false
  ) {
    self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    self.apiKey = apiKey
    self.http = http
    self.timeout = timeout
    self.ownContainer = ownContainer
  }

  public func sendText(session: String, chatId: String, text: String) async throws(WAHAError) -> SentMessage {
    try await sent(post("/api/sendText", SendTextBody(session: session, chatId: chatId, text: text), session: session))
  }

  public func sendImage(session: String, chatId: String, file: WAHAFile, caption: String?) async throws(WAHAError)
    -> SentMessage
  {
    try await sent(
      post(
        "/api/sendImage", SendFileBody(session: session, chatId: chatId, file: file, caption: caption),
        session: session))
  }

  public func sendFile(session: String, chatId: String, file: WAHAFile, caption: String?) async throws(WAHAError)
    -> SentMessage
  {
    try await sent(
      post(
        "/api/sendFile", SendFileBody(session: session, chatId: chatId, file: file, caption: caption),
        session: session))
  }

  public func sendSeen(session: String, chatId: String) async throws(WAHAError) {
    _ = try await post("/api/sendSeen", ChatTarget(session: session, chatId: chatId), session: session)
  }

  public func startTyping(session: String, chatId: String) async throws(WAHAError) {
    _ = try await post("/api/startTyping", ChatTarget(session: session, chatId: chatId), session: session)
  }

  public func stopTyping(session: String, chatId: String) async throws(WAHAError) {
    _ = try await post("/api/stopTyping", ChatTarget(session: session, chatId: chatId), session: session)
  }

  /// The chatId WhatsApp knows for `phone` (digits with country code), which settles the
  /// Brazilian ninth digit; a number not on WhatsApp is `.notOnWhatsApp`.
  public func chatId(forPhone phone: String, session: String) async throws(WAHAError) -> String {
    let digits = phone.filter(\.isNumber)
    let response = try await send(
      OutboundRequest(
        url: "\(baseURL)/api/contacts/check-exists?phone=\(digits)&session=\(Self.escape(session))",
        headers: headers(), timeout: timeout), session: session)
    guard let answer = try? response.decode(CheckExistsAnswer.self) else {
      throw .transient("check-exists answered \(response.status) with an unexpected body")
    }
    guard answer.numberExists, let chatId = answer.chatId else {
      throw .notOnWhatsApp(Self.mask(digits))
    }
    return chatId
  }

  public func session(_ name: String) async throws(WAHAError) -> WAHASession {
    let response = try await send(
      OutboundRequest(url: "\(baseURL)/api/sessions/\(Self.escape(name))", headers: headers(), timeout: timeout),
      session: name)
    guard let session = try? response.decode(WAHASession.self) else {
      throw .transient("session \(name) answered \(response.status) with an unexpected body")
    }
    return session
  }

  /// The chat's recent messages, newest first (`GET /api/{session}/chats/{chatId}/messages`): how a
  /// send whose answer was lost (a timeout, a crash) finds out whether WAHA sent it after all, before
  /// it sends again. `since` is rounded down to the second, so a message from that second is listed.
  public func messages(session: String, chatId: String, fromMe: Bool? = true, since: Date?, limit: Int = 100)
    async throws(WAHAError) -> [ChatMessage]
  {
    var query = "limit=\(limit)&downloadMedia=false"
    if let fromMe { query += "&filter.fromMe=\(fromMe)" }
    if let since { query += "&filter.timestamp.gte=\(Int64(since.timeIntervalSince1970.rounded(.down)))" }
    let url = "\(baseURL)/api/\(Self.escape(session))/chats/\(Self.escape(chatId))/messages?\(query)"
    let response = try await send(OutboundRequest(url: url, headers: headers(), timeout: timeout), session: session)
    guard let messages = try? response.decode([ChatMessage].self) else {
      throw .transient("the chat's messages answered \(response.status) with an unexpected body")
    }
    return messages
  }

  // MARK: Transport

  /// `Accept: application/json` (exactly: WAHA then answers a QR as JSON) and the key.
  func headers() -> [(name: String, value: String)] {
    var headers: [(name: String, value: String)] = [("Accept", "application/json")]
    if let apiKey { headers.append(("X-Api-Key", apiKey)) }
    return headers
  }

  /// A request without a body to `path` (under the base URL).
  func request(_ method: String, _ path: String) -> OutboundRequest {
    OutboundRequest(method: method, url: baseURL + path, headers: headers(), timeout: timeout)
  }

  /// A request to `path` with `body` as JSON.
  func request(_ method: String, _ path: String, body: some Encodable) throws(WAHAError) -> OutboundRequest {
    do {
      return try OutboundRequest.json(method, baseURL + path, body: body, headers: headers(), timeout: timeout)
    } catch {
      throw .rejected(status: 0, message: "cannot encode the request: \(error)")
    }
  }

  private func post(_ path: String, _ body: some Encodable, session: String) async throws(WAHAError) -> OutboundResponse
  {
    try await send(request("POST", path, body: body), session: session)
  }

  /// Sends and sorts the answer: 2xx returns; anything else becomes the `WAHAError` that says what to
  /// do. `session` names the session a 404 or 422 is about; without one a 404 is a plain refusal.
  func send(_ request: OutboundRequest, session: String?) async throws(WAHAError) -> OutboundResponse {
    try sorted(try await exchange(request), of: request, session: session)
  }

  /// The transport alone: any answer returns, whatever its status; only a failed exchange throws.
  func exchange(_ request: OutboundRequest) async throws(WAHAError) -> OutboundResponse {
    var request = request
    request.operatorAddress = ownContainer
    do {
      return try await http.send(request)
    } catch {
      throw .transient(
        "\(error)".replacingOccurrences(of: HTTPClientError.safe(request.url), with: Self.shown(request.url)))
    }
  }

  /// An answer sorted: 2xx returns it, anything else throws (a caller that reads some status its own
  /// way, as creating a session reads 422, looks before it sorts).
  func sorted(_ response: OutboundResponse, of request: OutboundRequest, session: String?) throws(WAHAError)
    -> OutboundResponse
  {
    switch (response.status, session) {
    case (200..<300, _): return response
    case (401, _): throw .unauthorized
    case (404, let session?): throw .sessionNotFound(session)
    case (422, let session?):
      let status = (try? response.decode(NotWorkingAnswer.self))?.status ?? "not WORKING"
      throw .sessionNotWorking(session: session, status: status)
    case (408, _), (429, _), (500...599, _):
      throw .transient("\(request.method) \(Self.shown(request.url)) answered \(response.status)")
    default:
      let answer = try? response.decode(MessageAnswer.self)
      throw .rejected(
        status: response.status, message: answer?.message ?? answer?.error ?? response.text.prefix(200).description)
    }
  }

  private func sent(_ response: OutboundResponse) throws(WAHAError) -> SentMessage {
    guard let answer = try? response.decode(SendAnswer.self), let id = answer.messageID else {
      throw .rejected(status: response.status, message: "the send answer holds no message id")
    }
    return SentMessage(id: id)
  }

  static func escape(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?&=")))
      ?? text
  }

  /// A phone number as logs may show it (LGPD: never the whole number): as long as the number, with
  /// a quarter of it at most (4 at most) left at each end, so never more than half of it shows and
  /// a short one shows little or nothing: `551*******000`, `1*****7`, `***`.
  /// A request's address as errors (and so logs) show it: no query or credentials, and the phone
  /// number in a chat's path masked (`/chats/551*******888@c.us/messages`), since those lines are
  /// kept and a phone number is personal data.
  package static func shown(_ url: String) -> String {
    let safe = HTTPClientError.safe(url)
    guard let start = safe.range(of: "/chats/") else { return safe }
    let rest = safe[start.upperBound...]
    let end = rest.firstIndex(of: "/") ?? rest.endIndex
    let chat = String(rest[..<end]).removingPercentEncoding ?? String(rest[..<end])
    let local = chat.prefix { $0 != "@" }
    let masked = mask(String(local)) + chat.dropFirst(local.count)
    return String(safe[..<start.upperBound]) + masked + String(rest[end...])
  }

  package static func mask(_ digits: String) -> String {
    let kept = min(4, digits.count / 4)
    return String(digits.prefix(kept)) + String(repeating: "*", count: digits.count - 2 * kept)
      + String(digits.suffix(kept))
  }
}
