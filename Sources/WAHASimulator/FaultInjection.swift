import Hummingbird
import ServiceLifecycle

/// Latency and faults on every `/api` request, at the rates currently set, before the request is
/// looked at: a failed request never reaches the handler, so it never logs a message.
struct FaultInjection<Context: RequestContext>: RouterMiddleware {
  let store: SimStore

  func handle(
    _ request: Request, context: Context, next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    let settings = store.settings
    if settings.latency > .zero { try await Task.sleep(for: settings.latency) }
    switch settings.rollFault() {
    case .timeout:
      // Held past any client's timeout; a shutdown ends the wait so Ctrl-C is not held up by it.
      let hold = settings.timeoutHold
      try? await cancelWhenGracefulShutdown { try await Task.sleep(for: hold) }
      throw WAHAError.engineFailure(request, reason: "Timed out waiting for the engine (simulated timeout)")
    case .failure:
      throw WAHAError.engineFailure(request, reason: "Connection Closed (simulated engine failure)")
    case .rateLimit:
      throw WAHAError.rateLimited
    case nil:
      return try await next(request, context)
    }
  }
}
