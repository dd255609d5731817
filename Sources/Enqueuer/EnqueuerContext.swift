import Hummingbird
import NIOCore
import Store

/// The request context of `whago serve`: who the request acts for, once the key is checked.
public struct EnqueuerContext: RequestContext {
  public var coreContext: CoreRequestContextStorage
  /// The tenant this request acts for: the key's own, or the one a service key names.
  var access: TenantAccess?
  /// The request came with a service key (WHAGO's backend), not the tenant's own.
  var byService = false

  /// The peer's IP address, as the socket saw it (a proxy in front is that proxy), or nil when
  /// the request did not come over a socket (in-process tests).
  let remoteIP: String?

  public init(source: Source) {
    coreContext = .init(source: source)
    remoteIP = source.channel.remoteAddress?.ipAddress
  }

  /// The request came from this machine: a loopback peer.
  var fromLoopback: Bool {
    guard let remoteIP else { return false }
    return remoteIP.hasPrefix("127.") || remoteIP == "::1" || remoteIP.hasPrefix("::ffff:127.")
  }

  /// A service key without `Whago-Tenant`: the request acts for no tenant in particular (only
  /// routes that read across tenants, such as the event feed, accept it).
  var isServiceWide: Bool { byService && access == nil }

  /// The tenant the request acts for, or nil for a service key without `Whago-Tenant` (the
  /// routes that act across tenants or for the service itself).
  func tenantOrService() throws(Problem) -> TenantID? {
    isServiceWide ? nil : try tenant().tenant.id
  }

  /// The tenant, for handlers behind `Authenticator`.
  func tenant() throws(Problem) -> TenantAccess {
    if let access { return access }
    if byService {
      throw Problem(
        .badRequest, "missing-tenant", "Which tenant?",
        detail: "a service key acts for a tenant: send the header Whago-Tenant: <tenant name>")
    }
    throw Problem.missingKey
  }
}
