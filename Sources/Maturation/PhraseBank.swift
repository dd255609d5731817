import Foundation

/// The Portuguese small talk chips exchange while warming up (jobs/phrases.json): openers and
/// replies. A day's texts are a shuffle seeded by program and day, so no two days read alike and
/// a replayed tick picks the same texts it picked before.
public struct PhraseBank: Sendable, Equatable {
  public let openers: [String]
  public let replies: [String]

  public init(openers: [String], replies: [String]) throws(PhraseBankError) {
    guard openers.count >= 2, replies.count >= 2 else { throw .tooFew }
    self.openers = openers
    self.replies = replies
  }

  /// For a catalog without phrases.json (a test's own): enough to talk, too few to vary much.
  public static let fallback = try! PhraseBank(
    openers: ["Oi, tudo bem?", "Bom dia! Como está?", "E aí, novidades?"],
    replies: ["Tudo ótimo, e você?", "Bem, obrigado!", "Tudo certo por aqui."])

  public static func load(directory: String) throws -> PhraseBank {
    struct File: Decodable {
      var openers: [String]
      var replies: [String]
    }
    let url = URL(fileURLWithPath: directory).appendingPathComponent("phrases.json")
    let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
    return try PhraseBank(openers: file.openers, replies: file.replies)
  }

  /// The text of message `seq` of `day`: even ones open a conversation, odd ones answer it.
  public func text(program: Int64, day: Int, seq: Int) -> String {
    let pool = seq % 2 == 0 ? openers : replies
    var generator = SeededGenerator(seed: UInt64(bitPattern: program) &* 1_000_003 &+ UInt64(day) &* 7919)
    let order = Array(pool.indices).shuffled(using: &generator)
    return pool[order[(seq / 2) % pool.count]]
  }
}

public enum PhraseBankError: Error, CustomStringConvertible {
  case tooFew
  public var description: String { "jobs/phrases.json needs at least two openers and two replies" }
}

/// SplitMix64: a small deterministic generator, so a day's texts can be recomputed.
struct SeededGenerator: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
