/// A Lua script with a name for errors and caching. Each script lives beside the Swift that runs it.
public struct RedisScript: Sendable {
  public let name: String
  public let source: String

  public init(_ name: String, _ source: String) {
    self.name = name
    self.source = source
  }
}
