import Hummingbird
import Store

/// The request context of `whago serve`: who the request acts for, once the key is checked.
public struct EnqueuerContext: RequestContext {
  public var coreContext: CoreRequestContextStorage
  /// The tenant this request acts for: the key's own, or the one a service key names.
  var access: TenantAccess?
  /// The request came with a service key (WHAGO's backend), not the tenant's own.
  var byService = false

  public init(source: Source) {
    coreContext = .init(source: source)
  }

  /// The tenant, for handlers behind `Authenticator` (which always sets it).
  func tenant() throws(Problem) -> TenantAccess {
    guard let access else { throw Problem.missingKey }
    return access
  }
}
