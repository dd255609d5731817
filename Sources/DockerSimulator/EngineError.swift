import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Wire

/// An error the engine answers, in Docker's shape (`{"message": ...}`) and with Docker's wording,
/// so a client's error handling is tested against what the real engine says.
struct EngineError: Error, HTTPResponseError, Sendable {
  let status: HTTPResponse.Status
  let message: String

  func response(from request: Request, context: some RequestContext) throws -> Response {
    Response(
      status: status, headers: [.contentType: "application/json"],
      body: .init(byteBuffer: ByteBuffer(bytes: JSONValue.object(["message": JSONValue(message)]).encoded())))
  }

  static func noSuchContainer(_ reference: String) -> EngineError {
    EngineError(status: .notFound, message: "No such container: \(reference)")
  }

  static func noSuchImage(_ image: String) -> EngineError {
    EngineError(status: .notFound, message: "No such image: \(image)")
  }

  static func nameInUse(_ name: String, by id: String) -> EngineError {
    EngineError(
      status: .conflict,
      message: "Conflict. The container name \"/\(name)\" is already in use by container \"\(id)\". "
        + "You have to remove (or rename) that container to be able to reuse that name.")
  }

  static func portAllocated(name: String, id: String, hostIP: String, port: Int) -> EngineError {
    EngineError(
      status: .internalServerError,
      message: "driver failed programming external connectivity on endpoint \(name) (\(id.prefix(12))): "
        + "Bind for \(hostIP.isEmpty ? "0.0.0.0" : hostIP):\(port) failed: port is already allocated")
  }

  static func badParameter(_ message: String) -> EngineError {
    EngineError(status: .badRequest, message: message)
  }
}
