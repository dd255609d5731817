import Foundation

/// When a day's warm-up messages go out: spread over what is left of the day's window at random,
/// human-looking gaps (hours apart on a day of five, minutes apart on a day of two hundred), as
/// back-and-forth pairs where the peer answers 10 to 25 s after reading. Pure: times in ms.
public enum ExchangeSchedule {
  /// `count` send times in `[from, until)`, sorted; pairs share a conversation (the second is the
  /// reply, `replyGap` after the first). `until` already leaves a margin before the window closes.
  public static func times(
    count: Int, from: Int64, until: Int64, replyGap: ClosedRange<Int64> = 10_000...25_000,
    using generator: inout some RandomNumberGenerator
  ) -> [Int64] {
    guard count > 0, until > from else { return [] }
    let conversations = (count + 1) / 2
    let span = until - from
    let slot = span / Int64(conversations)
    var times: [Int64] = []
    for c in 0..<conversations {
      // Each conversation starts somewhere in its own slot, so the day is covered evenly but never on a grid.
      let slotStart = from + Int64(c) * slot
      let latest = max(slotStart, slotStart + slot - replyGap.upperBound - 1)
      let start = Int64.random(in: slotStart...latest, using: &generator)
      times.append(start)
      if times.count < count {
        times.append(min(until - 1, start + Int64.random(in: replyGap, using: &generator)))
      }
    }
    return times
  }
}
