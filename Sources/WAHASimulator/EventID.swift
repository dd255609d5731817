/// WAHA's event ids, `evt_` + a ULID: 10 characters of millisecond time then 16 of randomness in
/// Crockford's base 32, so ids sort by time and a receiver can dedupe on them.
enum EventID {
  private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

  static func make(at milliseconds: Int = nowMilliseconds()) -> String {
    var characters: [Character] = []
    characters.reserveCapacity(26)
    var time = UInt64(max(0, milliseconds))
    var timePart = [Character](repeating: "0", count: 10)
    for index in stride(from: 9, through: 0, by: -1) {
      timePart[index] = alphabet[Int(time & 31)]
      time >>= 5
    }
    characters += timePart
    for _ in 0..<16 { characters.append(alphabet[Int.random(in: 0..<32)]) }
    return "evt_" + String(characters)
  }
}
