import ArgumentParser
import Foundation

/// How both simulators read their flags: durations, secrets from flag or environment, the webhook URL.
enum SimOptions {
  /// A flag, else its environment variable (read here, so a secret never shows as a default in --help).
  static func value(_ flag: String?, _ variable: String) -> String? {
    let value = flag ?? ProcessInfo.processInfo.environment[variable]
    return value?.isEmpty == false ? value : nil
  }

  static func duration(_ text: String, _ flag: String) throws -> Duration {
    guard let value = DurationArgument(argument: text) else {
      throw ValidationError("\(flag): '\(text)' is not a duration like 20ms, 5s or 1m")
    }
    return value.duration
  }

  /// `--webhook-url`, else `WHAGO_SIM_WEBHOOK_URL`; nil when neither is set.
  static func webhookURL(_ flag: String?, example: String) throws -> URL? {
    guard let text = value(flag, "WHAGO_SIM_WEBHOOK_URL") else { return nil }
    guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https", url.host != nil else {
      throw ValidationError("--webhook-url must be an http(s) URL, like \(example)")
    }
    return url
  }
}
