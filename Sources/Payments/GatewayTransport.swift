import Foundation
import OutboundHTTP

/// One gateway's HTTP exchanges. The three adapters share what they treat alike: a transport
/// failure is transient, so are 408, 409, 429 and 5xx; and every text that may reach an error is
/// scrubbed of the credentials first, so a log line or a job's last error never carries a key.
struct GatewayTransport: Sendable {
  let gateway: Gateway
  let baseURL: String
  let http: HTTPClient
  let timeout: Duration
  /// Credentials that must never appear in an error, whatever the gateway echoes back.
  let secrets: [String]
  /// The gateway stores a 5xx under the idempotency key and replays it (Stripe).
  let storesServerErrors: Bool

  init(
    gateway: Gateway, baseURL: String, http: HTTPClient, timeout: Duration, secrets: [String],
    storesServerErrors: Bool = false
  ) {
    self.gateway = gateway
    self.storesServerErrors = storesServerErrors
    self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    self.http = http
    self.timeout = timeout
    self.secrets = secrets.filter { !$0.isEmpty }
  }

  func request(
    _ method: String, _ path: String, headers: [(name: String, value: String)], body: [UInt8]?
  ) -> OutboundRequest {
    OutboundRequest(method: method, url: baseURL + path, headers: headers, body: body, timeout: timeout)
  }

  /// Sends; no answer at all (timeout, refused connection) is transient, since the gateway may
  /// have acted on a request whose answer was lost.
  func send(_ request: OutboundRequest) async throws(PaymentError) -> OutboundResponse {
    do {
      return try await http.send(request)
    } catch {
      throw .transient(redact("\(gateway.rawValue) \(request.method) \(HTTPClientError.safe(request.url)): \(error)"))
    }
  }

  /// The error for an answer the adapter did not recognize as an outcome. `detail` is the gateway's
  /// own message, if any.
  func failure(_ response: OutboundResponse, _ request: OutboundRequest, detail: String?) -> PaymentError {
    let text = redact(
      "\(gateway.rawValue) \(request.method) \(HTTPClientError.safe(request.url)) answered \(response.status)"
        + (detail.map { ": \($0)" } ?? ""))
    switch response.status {
    case 500...599 where storesServerErrors: return .uncertain(text)
    case 408, 409, 425, 429, 500...599: return .transient(text)
    default: return .rejected(text)
    }
  }

  /// Rewrites `error` with the credentials scrubbed out (for texts built from the gateway's answers).
  func redacted(_ error: PaymentError) -> PaymentError {
    switch error {
    case .transient(let text): .transient(redact(text))
    case .uncertain(let text): .uncertain(redact(text))
    case .rejected(let text): .rejected(redact(text))
    }
  }

  func redact(_ text: String) -> String {
    secrets.reduce(text) { $0.replacingOccurrences(of: $1, with: "***") }
  }
}

/// Gateways answer in snake_case; our types are camelCase.
enum GatewayJSON {
  static func decode<T: Decodable>(_ type: T.Type, _ response: OutboundResponse) -> T? {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try? decoder.decode(T.self, from: Data(response.body))
  }

  static func encode(_ value: some Encodable) throws(PaymentError) -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    do {
      return Array(try encoder.encode(value))
    } catch {
      throw .rejected("cannot encode the request: \(error)")
    }
  }
}
