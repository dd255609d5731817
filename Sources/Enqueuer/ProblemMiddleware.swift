import Hummingbird
import JobQueue
import Logging
import NIOCore
import Postgres
import RedisClient

/// Turns every error into a problem response: no input gets an empty or HTML error body, and an
/// outage of Redis or PostgreSQL is a 503 the client may retry, never a crash.
struct ProblemMiddleware: RouterMiddleware {
  typealias Context = EnqueuerContext
  let logger: Logger
  let allowed: AllowedMethods

  func handle(
    _ request: Request, context: Context, next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    do {
      return try await next(request, context)
    } catch let problem as Problem {
      throw problem
    } catch let error as HTTPError {
      switch error.status {
      case .notFound:
        let methods = allowed.methods(for: request.uri.path)
        guard methods.isEmpty else {
          var problem = Problem(
            .methodNotAllowed, "method-not-allowed", "Method not allowed",
            detail:
              "\(request.uri.path) takes \(methods.joined(separator: ", ")), not \(request.method); see /openapi.yaml")
          problem.allow = methods
          throw problem
        }
        throw Problem.notFound("no route \(request.method) \(request.uri.path); see /openapi.yaml")
      case .contentTooLarge:
        throw Problem(.contentTooLarge, "body-too-large", "The body is too large", detail: "send a smaller body")
      default:
        throw Problem(
          error.status, "http-\(error.status.code)", error.status.reasonPhrase,
          detail: error.body ?? error.status.reasonPhrase)
      }
    } catch is NIOTooManyBytesError {
      throw Problem(.contentTooLarge, "body-too-large", "The body is too large", detail: "send a smaller body")
    } catch let error as RedisError {
      logger.error("Redis failed a request", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
      throw Problem(
        .serviceUnavailable, "queue-unavailable", "The queue is unavailable",
        detail: "Redis did not answer; nothing was changed unless the response said so. Retry shortly.",
        retryAfter: 1)
    } catch let error as NotReplicated {
      logger.warning("write not confirmed by replicas", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
      throw Problem(
        .serviceUnavailable, "not-replicated", "The write was not replicated in time",
        detail: "\(error)", retryAfter: 1)
    } catch let error as PostgresError where error.kind == .busy {
      logger.warning("no database connection in time", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
      throw Problem(
        .serviceUnavailable, "database-busy", "The database is busy",
        detail: "every database connection is taken and requests are queued; nothing was changed. Retry shortly.",
        retryAfter: 1)
    } catch let error as PostgresError where error.isOutage || error.isTransient || error.kind == .closed {
      logger.error("PostgreSQL failed a request", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
      throw Problem(
        .serviceUnavailable, "database-unavailable", "The database is unavailable",
        detail: "PostgreSQL did not answer; retry shortly.", retryAfter: 1)
    } catch let error as PostgresError where error.refusesTheData {
      // Input that got past the checks at the door and that the database's constraints caught:
      // the client's to fix, so a 4xx, never a 503 it would retry forever. The value is not
      // echoed (it may be large or personal); the constraint says which rule it broke.
      logger.warning(
        "the database refused a request's data", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
      let rule = error.constraint.map { " (constraint \($0))" } ?? ""
      if error.isUniqueViolation {
        throw Problem(
          .conflict, "conflict", "It exists already",
          detail: "a record with the same unique values exists\(rule); read it, or change what names it")
      }
      throw Problem(
        .unprocessableContent, "invalid-data", "The database refused a value",
        detail: "a value in the request breaks a rule of the data\(rule); check the fields against /openapi.yaml")
    } catch {
      logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
      throw Problem(
        .internalServerError, "internal", "Internal error",
        detail: "the server failed this request; its log has the details")
    }
  }
}
