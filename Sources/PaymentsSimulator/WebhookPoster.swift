import Logging
import OutboundHTTP
import ServiceLifecycle

/// Sends the simulator's webhooks in the background, each with a few tries, as gateways do. It is
/// the one service that owns the outbound HTTP client: on shutdown it stops taking work, closes
/// the client (which fails what is still in flight at once) and cancels what still waits.
final class WebhookPoster: Service, Sendable {
  private typealias Work = @Sendable () async -> Void
  private let stream: AsyncStream<Work>
  private let continuation: AsyncStream<Work>.Continuation
  private let http = HTTPClient()
  private let logger: Logger
  let tries = 3

  init(logger: Logger) {
    self.logger = logger
    (stream, continuation) = AsyncStream.makeStream()
  }

  /// POSTs `body` to `url` with `headers`, up to `tries` times until a 2xx. `what` names the event
  /// in the log, which shows the receiver's address without its path or query (they may carry tokens).
  func post(_ url: String, headers: [(name: String, value: String)], body: [UInt8], what: String) {
    continuation.yield { [http, logger, tries] in
      var failure = ""
      for attempt in 1...tries {
        do throws(HTTPClientError) {
          let response = try await http.send(
            OutboundRequest(method: "POST", url: url, headers: headers, body: body, timeout: .seconds(10)))
          if (200..<300).contains(response.status) { return }
          failure = "HTTP \(response.status)"
        } catch {
          failure = "\(error)"
          if error.kind == .closed { return }
        }
        if attempt < tries {
          do { try await Task.sleep(for: .milliseconds(200 * attempt)) } catch { return }
        }
      }
      logger.warning(
        "webhook not delivered",
        metadata: [
          "event": "\(what)", "tries": "\(tries)", "error": "\(failure)", "receiver": "\(HTTPClientError.safe(url))",
        ])
    }
  }

  func run() async throws {
    await withDiscardingTaskGroup { group in
      for await work in stream.cancelOnGracefulShutdown() {
        group.addTask { await work() }
      }
      http.close()
      group.cancelAll()
    }
  }
}
