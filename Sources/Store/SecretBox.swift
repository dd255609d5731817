import Crypto
import Foundation

/// Seals the credentials whago must present later but must not keep readable at rest (proxy
/// passwords): AES-256-GCM under `WHAGO_SECRET_KEY`. A database dump or a replica's disk then gives
/// away nothing without the key, which lives only in the processes' environment. Each value has its
/// own random nonce, and the tag makes a value sealed under another key fail loudly instead of
/// decrypting to garbage.
public struct SecretBox: Sendable {
  private let key: SymmetricKey
  /// Format version, first byte of every sealed value, so the scheme can change without guessing.
  private static let version: UInt8 = 1

  /// `encoded`: 32 bytes as base64 (`openssl rand -base64 32`) or as 64 hex digits.
  public init(encoded: String) throws(SecretBoxError) {
    let text = encoded.trimmingCharacters(in: .whitespacesAndNewlines)
    if text.count == 64, text.allSatisfy(\.isHexDigit) {
      var bytes: [UInt8] = []
      var index = text.startIndex
      while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        bytes.append(UInt8(text[index..<next], radix: 16)!)
        index = next
      }
      key = SymmetricKey(data: bytes)
    } else if let data = Data(base64Encoded: text), data.count == 32 {
      key = SymmetricKey(data: data)
    } else {
      throw .badKey
    }
  }

  /// The box from `WHAGO_SECRET_KEY`; nil when it is unset (callers that need one say so).
  public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment)
    throws(SecretBoxError) -> SecretBox?
  {
    guard let value = environment["WHAGO_SECRET_KEY"], !value.isEmpty else { return nil }
    return try SecretBox(encoded: value)
  }

  public func seal(_ secret: String) throws(SecretBoxError) -> [UInt8] {
    do {
      let box = try AES.GCM.seal(Data(secret.utf8), using: key)
      guard let combined = box.combined else { throw SecretBoxError.sealFailed }
      return [Self.version] + Array(combined)
    } catch {
      throw .sealFailed
    }
  }

  public func open(_ sealed: [UInt8]) throws(SecretBoxError) -> String {
    guard sealed.first == Self.version, sealed.count > 1 + 12 + 16 else { throw .wrongKey }
    do {
      let box = try AES.GCM.SealedBox(combined: Data(sealed.dropFirst()))
      return String(decoding: try AES.GCM.open(box, using: key), as: UTF8.self)
    } catch {
      throw .wrongKey
    }
  }
}

/// Never carries the key or the secret.
public enum SecretBoxError: Error, CustomStringConvertible, Equatable {
  case badKey
  case missingKey
  case sealFailed
  case wrongKey

  public var description: String {
    switch self {
    case .badKey:
      "WHAGO_SECRET_KEY must be 32 bytes, as base64 or 64 hex digits; make one with `openssl rand -base64 32`"
    case .missingKey:
      "WHAGO_SECRET_KEY is not set; proxy passwords are sealed with it. Set the same key on every serve and worker "
        + "(make one with `openssl rand -base64 32`)"
    case .sealFailed: "could not seal the secret"
    case .wrongKey:
      "a stored secret does not open with this WHAGO_SECRET_KEY: it was sealed under another key; set the key it "
        + "was sealed with, or add the credential again"
    }
  }
}
