import JobCatalog
import Wire

extension JSONValue {
  /// A request body as JSON, or the 400 problem that says why it is not.
  static func body(_ bytes: some Collection<UInt8>) throws(Problem) -> JSONValue {
    do {
      return try parse(bytes)
    } catch {
      throw Problem.badJSON(error.reason)
    }
  }
}
