import Hummingbird

/// WAHA's `X-Api-Key`, checked on every `/api` request when the simulator has a key.
struct APIKeyCheck<Context: RequestContext>: RouterMiddleware {
  let key: String

  func handle(
    _ request: Request, context: Context, next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    guard let given = request.headers[.init("X-Api-Key")!], constantTimeEqual(given, key) else {
      throw WAHAError.unauthorized
    }
    return try await next(request, context)
  }

  /// Compares without an early exit, so response times do not reveal how much of a guess was right.
  private func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    var difference = UInt8(x.count == y.count ? 0 : 1)
    for index in 0..<max(x.count, y.count) {
      difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
    }
    return difference == 0
  }
}
