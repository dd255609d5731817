import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting

/// One request to the in-process API with a key (and, for a service key, `Whago-Tenant`); the
/// status, the body as a JSON object (empty when it is not one) and the headers.
func callAPI(
  _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, key: String, tenant: String? = nil,
  json: String? = nil, csv: String? = nil, headers extra: [String: String] = [:]
) async throws -> (HTTPResponse.Status, [String: Any], HTTPFields) {
  var headers: HTTPFields = [.authorization: "Bearer \(key)"]
  for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
  if let tenant { headers[HTTPField.Name("Whago-Tenant")!] = tenant }
  if json != nil { headers[.contentType] = "application/json" }
  if csv != nil { headers[.contentType] = "text/csv; charset=utf-8" }
  return try await client.execute(
    uri: uri, method: method, headers: headers, body: (json ?? csv).map { ByteBuffer(string: $0) }
  ) { response in
    let object =
      (try? JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8))) as? [String: Any] ?? [:]
    return (response.status, object, response.headers)
  }
}
