import Foundation

/// RFC 6901 JSON Pointers, which name the field an error is about (`/jobs/3/payload/ms`).
public enum JSONPointer {
  /// One reference token: `~` and `/` in a field name escaped as `~0` and `~1`.
  public static func escape(_ name: String) -> String {
    name.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
  }

  /// The pointer to a path of field names and array indexes.
  public static func to(_ path: [any CodingKey]) -> String {
    path.map { key in "/" + (key.intValue.map(String.init) ?? escape(key.stringValue)) }.joined()
  }
}
