import Foundation
import RedisClient

/// Which jobs an operator means, among the dead or the waiting: by job type, tenant, text in the
/// last error, and (for dead letters) age. Empty fields match everything.
public struct JobFilter: Sendable, Equatable {
  public var type: String?
  public var tenant: String?
  /// Case-insensitive text the last error contains.
  public var errorContains: String?
  /// Only jobs that died at or after this Redis time (ms); dead letters only.
  public var since: Int64?

  public init(type: String? = nil, tenant: String? = nil, errorContains: String? = nil, since: Int64? = nil) {
    self.type = type
    self.tenant = tenant
    self.errorContains = errorContains
    self.since = since
  }

  public var isEmpty: Bool { type == nil && tenant == nil && errorContains == nil && since == nil }
}
