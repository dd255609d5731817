import Foundation

/// What a simulated container runs when started. Docker runs the image's entrypoint; we have no
/// images, so a WAHA image runs `whago sim waha` on the container's host port, which answers WAHA's
/// API there as the real container would. Tests put a tiny shell command in its place, so they
/// need neither the whago binary nor free ports.
public enum ContainerCommand: Sendable, Equatable {
  /// `<executable> sim waha --port <host port> --require-scan --sessions ""` (and `--webhook-url`
  /// from the container's `WHATSAPP_HOOK_URL`), with the container's `WAHA_API_KEY` passed as
  /// `WHAGO_SIM_API_KEY` in its environment: in the arguments, `ps` would show the key to anyone.
  case wahaSimulator(executable: String)
  /// `/bin/sh -c <script>`, with the container's environment plus `PORT` (its host port, empty
  /// when none is published), `CONTAINER_NAME` and `CONTAINER_ID`.
  case shell(String)

  /// The program, its arguments and its whole environment for one start of `container`.
  func launch(
    name: String, id: String, environment: [String: String], hostPort: Int?, inherited: [String: String]
  ) -> (executable: String, arguments: [String], environment: [String: String]) {
    // The simulator's own environment (PATH, HOME), without what would configure the child as a
    // simulator behind our back, then the container's.
    var env = inherited.filter { !$0.key.hasPrefix("WHAGO_SIM_") }
    env.merge(environment) { _, container in container }
    env["PORT"] = hostPort.map(String.init) ?? ""
    env["CONTAINER_NAME"] = name
    env["CONTAINER_ID"] = id
    switch self {
    case .shell(let script):
      return ("/bin/sh", ["-c", script], env)
    case .wahaSimulator(let executable):
      var arguments = ["sim", "waha", "--port", String(hostPort ?? 0), "--require-scan", "--sessions", ""]
      if let hook = environment["WHATSAPP_HOOK_URL"], !hook.isEmpty { arguments += ["--webhook-url", hook] }
      if let key = environment["WAHA_API_KEY"] ?? environment["WHATSAPP_API_KEY"], !key.isEmpty {
        env["WHAGO_SIM_API_KEY"] = key
      }
      return (executable, arguments, env)
    }
  }
}
