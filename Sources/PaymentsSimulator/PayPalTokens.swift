import Foundation
import Synchronization

/// The OAuth access tokens the simulated PayPal has issued, each valid for `lifetime`.
final class PayPalTokens: Sendable {
  private let issued = Mutex<[String: Date]>([:])
  let lifetime: TimeInterval = 32_400

  func issue() -> String {
    let token = "A21AA" + SimID.alphanumeric(40)
    issued.withLock { $0[token] = Date().addingTimeInterval(lifetime) }
    return token
  }

  func isValid(_ token: String?) -> Bool {
    guard let token else { return false }
    return issued.withLock { $0[token].map { $0 > Date() } ?? false }
  }
}
