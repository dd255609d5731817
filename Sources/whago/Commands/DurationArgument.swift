import ArgumentParser
import Foundation

/// A duration written as people write them: `250ms`, `5s`, `2m`, `1h`, `1d` (a bare number is seconds).
struct DurationArgument: ExpressibleByArgument, Sendable {
  let duration: Duration

  init(_ duration: Duration) {
    self.duration = duration
  }

  init?(argument: String) {
    let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
    let text = argument.trimmingCharacters(in: .whitespaces).lowercased()
    for (suffix, factor) in units where text.hasSuffix(suffix) {
      let number = text.dropLast(suffix.count)
      if let value = Double(number), value >= 0, value.isFinite {
        duration = .milliseconds(Int64(value * Double(factor)))
        return
      }
    }
    if let value = Double(text), value >= 0, value.isFinite {
      duration = .milliseconds(Int64(value * 1000))
      return
    }
    return nil
  }

  static var defaultCompletionKind: CompletionKind { .default }
}
