import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// A path the API has, asked with a method it does not take, is 405 with `Allow` (RFC 9110); only
/// a path it does not have is 404. In process, through Hummingbird's test client.
@Suite struct MethodTests {
  @Test func aKnownPathWithAnotherMethodIs405WithAllowAndAnUnknownPathIs404() async throws {
    try await withInProcessEnqueuer { client in
      let expectations: [(String, String, String)] = [
        ("/v1/jobs", "TRACE", "POST"),
        ("/v1/jobs/batch", "GET", "POST"),
        ("/v1/jobs/0123456789abcd", "PUT", "DELETE, GET"),
        ("/v1/campaigns/7/pause", "GET", "POST"),
        ("/healthz", "POST", "GET"),
        ("/v1/subscription", "PATCH", "GET, POST"),
      ]
      for (path, method, allow) in expectations {
        try await client.execute(uri: path, method: HTTPRequest.Method(method)!) { response in
          #expect(response.status == .methodNotAllowed, "\(method) \(path)")
          #expect(response.headers[.allow] == allow, "\(method) \(path): \(response.headers[.allow] ?? "no Allow")")
          #expect(response.headers[.contentType] == "application/problem+json")
          #expect(String(buffer: response.body).contains("method-not-allowed"))
        }
      }
      try await client.execute(uri: "/v1/no-such-thing", method: .get) { response in
        #expect(response.status == .notFound)
        #expect(response.headers[.allow] == nil)
      }
    }
  }
}
