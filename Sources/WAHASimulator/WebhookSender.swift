import Foundation
import Logging
import Wire

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// Delivers webhooks as WAHA does: a JSON POST per target, signed when the target has a key, retried
/// a few times, the same event id on every try. URLSession is plenty for a simulator; a delivery
/// waits suspended, never blocking a thread of the cooperative pool.
struct WebhookSender: Sendable {
  let work: BackgroundWork
  let logger: Logger
  let tries = 3
  let session: URLSession = {
    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = 10
    return URLSession(configuration: configuration)
  }()

  /// Sends `event` to each of its targets after `delay`, each delivery on its own.
  func send(_ event: WebhookEvent, after delay: Duration = .zero) {
    for target in event.targets {
      work.after(delay) { await deliver(event, to: target) }
    }
  }

  private func deliver(_ event: WebhookEvent, to target: WebhookTarget) async {
    let timestamp = nowMilliseconds()
    let body = event.envelope(id: EventID.make(at: timestamp), timestamp: timestamp).encoded()
    var request = URLRequest(url: target.url)
    request.httpMethod = "POST"
    request.httpBody = body
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    request.setValue(UUID().uuidString.lowercased(), forHTTPHeaderField: "X-Webhook-Request-Id")
    request.setValue(String(timestamp), forHTTPHeaderField: "X-Webhook-Timestamp")
    if let secret = target.secret {
      request.setValue(WebhookSignature.hmac(key: secret, body: body), forHTTPHeaderField: "X-Webhook-Hmac")
      request.setValue(WebhookSignature.algorithm, forHTTPHeaderField: "X-Webhook-Hmac-Algorithm")
    }
    for (name, value) in target.headers { request.setValue(value, forHTTPHeaderField: name) }

    var failure = ""
    for attempt in 1...tries {
      do {
        let status = try await session.status(of: request)
        if (200..<300).contains(status) { return }
        failure = "HTTP \(status)"
      } catch {
        failure = error.localizedDescription
      }
      if Task.isCancelled { return }
      if attempt < tries {
        do { try await Task.sleep(for: .milliseconds(200 * attempt)) } catch { return }
      }
    }
    // The receiver's address without path or query: those may carry tokens.
    logger.warning(
      "webhook not delivered",
      metadata: [
        "event": "\(event.event)", "session": "\(event.session)", "tries": "\(tries)", "error": "\(failure)",
        "receiver":
          "\(target.url.scheme ?? "http")://\(target.url.host ?? "?"):\(target.url.port.map(String.init) ?? "")",
      ])
  }
}
