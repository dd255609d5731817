import Foundation
import Testing
import WAHASimulator
import Wire

@Suite struct WebhookSignatureTests {
  /// WAHA's own documented example, so our signature is the one WAHA (and WHAGO's verifier) computes.
  @Test func matchesWAHAsPublishedTestVector() {
    let body = Data(#"{"event":"message","session":"default","engine":"WEBJS"}"#.utf8)
    #expect(
      WebhookSignature.hmac(key: "my-secret-key", body: body)
        == "208f8a55dde9e05519e898b10b89bf0d0b3b0fdf11fdbf09b6b90476301b98d8097c462b2b17a6ce93b6b47a136cf2e78a33a63f6752c2c1631777076153fa89"
    )
    #expect(WebhookSignature.algorithm == "sha512")
  }

  @Test func dependsOnKeyAndBody() {
    let body = Data("{}".utf8)
    #expect(WebhookSignature.hmac(key: "a", body: body) != WebhookSignature.hmac(key: "b", body: body))
    #expect(WebhookSignature.hmac(key: "a", body: body) != WebhookSignature.hmac(key: "a", body: Data("{ }".utf8)))
  }
}
