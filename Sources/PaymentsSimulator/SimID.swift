import Foundation

/// Now, in milliseconds since 1970, for the times the gateways put in their answers.
func nowMilliseconds() -> Int {
  Int(Date().timeIntervalSince1970 * 1000)
}

/// Random ids in the gateways' own alphabets.
enum SimID {
  static func alphanumeric(_ count: Int, uppercase: Bool = false) -> String {
    let alphabet = Array(
      uppercase
        ? "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    return String((0..<count).map { _ in alphabet.randomElement()! })
  }
}
