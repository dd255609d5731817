import Hummingbird
import Wire

/// WAHA's `X-Api-Key`, checked on every `/api` request when the simulator has a key.
struct APIKeyCheck<Context: RequestContext>: RouterMiddleware {
  let key: String

  func handle(
    _ request: Request, context: Context, next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    guard let given = request.headers[.init("X-Api-Key")!], constantTimeEqual(given, key) else {
      throw SimulatedWAHAError.unauthorized
    }
    return try await next(request, context)
  }

}
