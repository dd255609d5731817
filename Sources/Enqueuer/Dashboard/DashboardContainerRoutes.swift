import Docker
import Foundation
import Hummingbird
import Logging
import Store

/// The Containers page and its actions (start, stop, restart through the Docker Engine API), each
/// on the audit trail.
extension DashboardRoutes {
  func registerContainerPages(on admin: RouterGroup<EnqueuerContext>) {
    admin.get("containers") { request, _ in try await containers(request) }
    for action in ["start", "stop", "restart"] {
      admin.post("containers/\(action)") { request, _ in try await containerAct(request, action: action) }
    }
  }

  func containers(_ request: Request) async throws -> Response {
    let samples = Dictionary(
      try await store.latestContainerSamples().map { ($0.containerName, $0) }, uniquingKeysWith: { a, _ in a })
    let rows = try await store.containers().map { ContainersPage.Row(container: $0, sample: samples[$0.name]) }
    return DashboardResponse.page(
      ContainersPage.render(
        rows, alerts: try await store.containerAlerts(),
        usage: try await store.fleetUsage(window: .seconds(7 * 86400), bucket: .seconds(3600)), docker: docker != nil,
        flash: Self.containerFlash(request) ?? Self.flash(request)))
  }

  func containerAct(_ request: Request, action: String) async throws -> Response {
    let trail = actions
    let fields = try await trail.form(request)
    guard let docker, let name = fields["name"], let container = try await store.container(named: name) else {
      return DashboardResponse.redirect(to: "/dashboard/containers?container=none")
    }
    let reference = container.dockerId ?? container.name
    do {
      _ = try await trail.audited("container.\(action)", target: container.name) {
        switch action {
        case "start": try await docker.start(reference)
        case "stop": try await docker.stop(reference)
        default: try await docker.restart(reference)
        }
        return 1
      }
    } catch let error as DockerError {
      logger.warning("container action failed", metadata: ["action": "\(action)", "error": "\(error)"])
      return DashboardResponse.redirect(to: "/dashboard/containers?container=failed")
    }
    return DashboardResponse.redirect(to: "/dashboard/containers?container=\(action)")
  }

  static func containerFlash(_ request: Request) -> String? {
    switch FormFields(request.uri.query)["container"] {
    case "start": "Started"
    case "stop": "Stopped: the monitor starts it again within a minute while it holds chips"
    case "restart": "Restarted"
    case "failed": "Docker refused the action; see the server's log"
    case "none": "No such container, or this server has no WHAGO_DOCKER_HOST"
    default: nil
    }
  }
}
