import Hummingbird
import ServiceLifecycle

/// Latency and faults on every `/api` request, at the rates currently set, before the request is
/// looked at. A failure or a 429 never reaches the handler, so it never logs a message; a timeout
/// may have reached it first (`SimSettings.timeoutAfterSendRate`), because a real WAHA that times
/// out has sometimes sent the message already, and a sender must not learn to count on either.
struct FaultInjection<Context: RequestContext>: RouterMiddleware {
  let store: SimStore

  func handle(
    _ request: Request, context: Context, next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    let settings = store.settings
    if settings.latency > .zero { try await Task.sleep(for: settings.latency) }
    switch settings.rollFault() {
    case .timeout:
      // The engine did the work (a send is logged and acked) and then wedged: the answer is lost,
      // whatever it was.
      if settings.rollTimeoutAfterSend() { _ = try? await next(request, context) }
      // Held past any client's timeout; a shutdown ends the wait so Ctrl-C is not held up by it.
      let hold = settings.timeoutHold
      try? await cancelWhenGracefulShutdown { try await Task.sleep(for: hold) }
      throw SimulatedWAHAError.engineFailure(request, reason: "Timed out waiting for the engine (simulated timeout)")
    case .failure:
      throw SimulatedWAHAError.engineFailure(request, reason: "Connection Closed (simulated engine failure)")
    case .rateLimit:
      throw SimulatedWAHAError.rateLimited
    case nil:
      return try await next(request, context)
    }
  }
}
