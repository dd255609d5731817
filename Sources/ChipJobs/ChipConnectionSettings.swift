import Docker
import Foundation
import Store

/// How whago connects chips itself, from the environment of the workers (and serve, for the port
/// range and the address containers are reached at). Without `WHAGO_DOCKER_HOST` the chip jobs
/// that need Docker fail with a message saying so; tenants' own WAHA (`waha_url`) still works.
public struct ChipConnectionSettings: Sendable {
  public var containers = ContainerSettings()
  /// The WAHA Plus image each tenant's container runs.
  public var image = "devlikeapro/waha-plus:latest"
  /// Per container; WHAGO's own code set none, so one tenant's leak took the host down.
  public var memoryBytes: Int? = 1 << 30
  public var nanoCPUs: Int? = 1_000_000_000
  /// Where WAHA sends a session's webhooks: this deployment's public address (serve's).
  public var publicURL: String?
  /// Each chip's webhook key is derived from it (`WAHAWebhookKey`); nil: sessions send unsigned
  /// webhooks nowhere (serve would refuse them), and only the health check keeps statuses.
  public var webhookSecret: String?
  /// Opens proxy passwords.
  public var secretBox: SecretBox?
  /// How long a started container has to answer before the step fails (and is retried).
  public var readyTimeout: Duration = .seconds(60)
  /// How long an empty container stays before the monitor removes it.
  public var emptyGrace: Duration = .seconds(3600)
  /// Whether a Docker engine is configured: `WHAGO_DOCKER_HOST` set, or Docker's socket present.
  /// Without one the fleet monitor has nothing to watch (a deployment of tenants' own WAHA only).
  public var dockerConfigured = false
  /// How long a container may stay down before the monitor's `stopped` alert.
  public var stoppedAlertAfter: Duration = .seconds(3600)

  public init() {}

  /// `WHAGO_CONTAINER_PORTS` (3100-3199), `WHAGO_WAHA_HOST`, `WHAGO_WAHA_IMAGE`,
  /// `WHAGO_CONTAINER_MEMORY_MB`, `WHAGO_CONTAINER_CPUS`, `WHAGO_PUBLIC_URL`,
  /// `WHAGO_WAHA_WEBHOOK_SECRET`, `WHAGO_SECRET_KEY`, `WHAGO_CONTAINER_READY_TIMEOUT_S`,
  /// `WHAGO_CONTAINER_EMPTY_GRACE_S`, `WHAGO_CONTAINER_STOPPED_ALERT_S`.
  public init(environment: [String: String]) throws {
    if let ports = environment["WHAGO_CONTAINER_PORTS"], !ports.isEmpty {
      containers.ports = try Self.portRange(ports)
    }
    if let host = environment["WHAGO_WAHA_HOST"], !host.isEmpty { containers.wahaHost = host }
    dockerConfigured =
      environment["WHAGO_DOCKER_HOST"].map { !$0.isEmpty }
      ?? FileManager.default.fileExists(atPath: "/var/run/docker.sock")
    if let image = environment["WHAGO_WAHA_IMAGE"], !image.isEmpty { self.image = image }
    if let memory = environment["WHAGO_CONTAINER_MEMORY_MB"], !memory.isEmpty {
      guard let mb = Int(memory), mb >= 0 else { throw SettingsError("WHAGO_CONTAINER_MEMORY_MB must be megabytes") }
      memoryBytes = mb == 0 ? nil : mb << 20
    }
    if let cpus = environment["WHAGO_CONTAINER_CPUS"], !cpus.isEmpty {
      guard let value = Double(cpus), value >= 0 else { throw SettingsError("WHAGO_CONTAINER_CPUS must be a number") }
      nanoCPUs = value == 0 ? nil : Int(value * 1e9)
    }
    if let url = environment["WHAGO_PUBLIC_URL"], !url.isEmpty {
      publicURL = url.hasSuffix("/") ? String(url.dropLast()) : url
    }
    webhookSecret = environment["WHAGO_WAHA_WEBHOOK_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
    secretBox = try SecretBox.fromEnvironment(environment)
    if let timeout = environment["WHAGO_CONTAINER_READY_TIMEOUT_S"], let seconds = Int(timeout), seconds > 0 {
      readyTimeout = .seconds(seconds)
    }
    if let grace = environment["WHAGO_CONTAINER_EMPTY_GRACE_S"], let seconds = Int(grace), seconds >= 0 {
      emptyGrace = .seconds(seconds)
    }
    if let after = environment["WHAGO_CONTAINER_STOPPED_ALERT_S"], let seconds = Int(after), seconds >= 0 {
      stoppedAlertAfter = .seconds(seconds)
    }
  }

  /// `3100-3199`.
  public static func portRange(_ text: String) throws -> ClosedRange<Int> {
    let parts = text.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard parts.count == 2, let low = parts[0], let high = parts[1], 1 <= low, low <= high, high <= 65535 else {
      throw SettingsError("WHAGO_CONTAINER_PORTS must be a range like 3100-3199")
    }
    return low...high
  }

  /// The webhook a chip's session sends to, with its own key.
  func webhook(chip id: Int64) -> (url: String, hmacKey: String?)? {
    guard let publicURL else { return nil }
    return (publicURL + WAHAWebhookKey.path(chip: id), webhookSecret.map { WAHAWebhookKey.forChip(id, secret: $0) })
  }
}

public struct SettingsError: Error, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}
