import Foundation
import OutboundHTTP

/// Managing a chip's session on its tenant's WAHA: create, update, start, restart, log out, delete,
/// who the account is, and whether the server is up. Errors are `WAHAError`s sorted as for sends.
extension WAHAClient {
  /// `POST /api/sessions {"name","start","config"}`. `start` is always sent, as WAHA advises. A session
  /// of that name already there is `.sessionExists(name)`, which an idempotent caller treats as
  /// success; any other 422 is `.rejected`.
  public func createSession(name: String, config: SessionConfig, start: Bool = true) async throws(WAHAError) {
    let request = try request(
      "POST", "/api/sessions", body: CreateSessionBody(name: name, start: start, config: config))
    let response = try await exchange(request)
    if response.status == 422 {
      let answer = try? response.decode(MessageAnswer.self)
      let message = answer?.message ?? answer?.error ?? ""
      if message.contains("already exists") { throw .sessionExists(name) }
      throw .rejected(status: 422, message: message.isEmpty ? response.text.prefix(200).description : message)
    }
    _ = try sorted(response, of: request, session: name)
  }

  /// `GET /api/sessions?all=true`: every session of the server, stopped ones included.
  public func sessions() async throws(WAHAError) -> [WAHASession] {
    let response = try await send(request("GET", "/api/sessions?all=true"), session: nil)
    guard let sessions = try? response.decode([WAHASession].self) else {
      throw .transient("the session list answered \(response.status) with an unexpected body")
    }
    return sessions
  }

  /// `PUT /api/sessions/{s} {"config"}`: the whole config is replaced (a part left out is removed).
  /// `.sessionNotFound` when there is no such session.
  public func updateSession(name: String, config: SessionConfig) async throws(WAHAError) {
    let path = "/api/sessions/\(Self.escape(name))"
    _ = try await send(request("PUT", path, body: UpdateSessionBody(config: config)), session: name)
  }

  /// `DELETE /api/sessions/{s}`: stops, logs out and deletes. Idempotent: a session already gone
  /// (404) is success.
  public func deleteSession(_ name: String) async throws(WAHAError) {
    do {
      _ = try await send(request("DELETE", "/api/sessions/\(Self.escape(name))"), session: name)
    } catch .sessionNotFound {
      return
    }
  }

  /// `POST /api/sessions/{s}/start`; a session already running stays as it is.
  public func start(_ name: String) async throws(WAHAError) {
    try await sessionAction("start", name)
  }

  /// `POST /api/sessions/{s}/restart`: what cures a wedged or FAILED session.
  public func restart(_ name: String) async throws(WAHAError) {
    try await sessionAction("restart", name)
  }

  /// `POST /api/sessions/{s}/logout`: unlinks the WhatsApp account; linking again takes a new QR
  /// scan or pairing code.
  public func logout(_ name: String) async throws(WAHAError) {
    try await sessionAction("logout", name)
  }

  /// `GET /api/sessions/{s}/me`: the linked account, or nil when none is (WAHA answers null, or
  /// nothing at all).
  public func me(_ name: String) async throws(WAHAError) -> WAHASession.Me? {
    let response = try await send(request("GET", "/api/sessions/\(Self.escape(name))/me"), session: name)
    let text = response.text.trimmingCharacters(in: .whitespacesAndNewlines)
    if text.isEmpty || text == "null" { return nil }
    guard let me = try? response.decode(WAHASession.Me.self) else {
      throw .transient("session \(name)'s me answered \(response.status) with an unexpected body")
    }
    return me
  }

  /// `GET /ping` → `{"message":"pong"}`: the server is up (says nothing about its sessions).
  public func ping() async throws(WAHAError) {
    let response = try await send(request("GET", "/ping"), session: nil)
    guard (try? response.decode(MessageAnswer.self))?.message == "pong" else {
      throw .transient("ping answered \(response.status) without pong")
    }
  }

  /// A bodiless action on a session, sent with `{}` so no proxy on the way asks for a length.
  private func sessionAction(_ action: String, _ name: String) async throws(WAHAError) {
    let path = "/api/sessions/\(Self.escape(name))/\(action)"
    _ = try await send(request("POST", path, body: EmptyBody()), session: name)
  }
}

struct CreateSessionBody: Encodable {
  var name: String
  var start: Bool
  var config: SessionConfig
}

struct UpdateSessionBody: Encodable {
  var config: SessionConfig
}

struct EmptyBody: Encodable {}
