import Foundation
import Wire

/// Stable, sorted JSON for scripts, named as the API names things (`WireJSON`: snake_case).
enum JSONOutput {
  static func encode<T: Encodable>(_ value: T) throws -> String {
    try WireJSON.text(value)
  }
}
