import Synchronization

/// Job ids: 14 random base62 characters (83 bits), short because every queued job stores its id
/// several times in Redis, and random so that producers on any host need no coordination.
public enum JobID {
  private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
  private static let generator = Mutex(Xoshiro(seed: SystemRandomNumberGenerator()))

  public static func make() -> String {
    var chars = [UInt8](repeating: 0, count: 14)
    generator.withLock { rng in
      var bits = rng.next()
      for i in 0..<14 {
        if i == 7 { bits = rng.next() }
        chars[i] = alphabet[Int(bits % 62)]
        bits /= 62
      }
    }
    return String(decoding: chars, as: UTF8.self)
  }

  /// True for strings that can be ids: used to refuse garbage before it reaches Redis.
  public static func isValid(_ id: String) -> Bool {
    !id.isEmpty && id.utf8.count <= 64 && id.utf8.allSatisfy { alphabet.contains($0) || $0 == 45 || $0 == 95 }
  }
}

/// xoshiro256** seeded once from the system generator: ids need uniqueness, not secrecy, and
/// a syscall per id would cap bulk enqueue.
struct Xoshiro: RandomNumberGenerator {
  private var s: (UInt64, UInt64, UInt64, UInt64)

  init(seed: SystemRandomNumberGenerator) {
    var g = seed
    s = (g.next(), g.next(), g.next(), g.next())
  }

  mutating func next() -> UInt64 {
    let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
    let t = s.1 << 17
    s.2 ^= s.0
    s.3 ^= s.1
    s.1 ^= s.2
    s.0 ^= s.3
    s.2 ^= t
    s.3 = s.3 << 45 | s.3 >> 19
    return result
  }
}
