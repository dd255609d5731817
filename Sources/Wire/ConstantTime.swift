/// Compares secrets (API keys, tokens, signatures) without an early exit, so the time an answer
/// takes never reveals how much of a guess was right. A missing secret never matches.
public func constantTimeEqual(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
  let x = Array(a)
  let y = Array(b)
  var difference = UInt8(x.count == y.count ? 0 : 1)
  for index in 0..<max(x.count, y.count) {
    difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
  }
  return difference == 0
}

public func constantTimeEqual(_ a: String?, _ b: String) -> Bool {
  guard let a else { return false }
  return constantTimeEqual(a.utf8, b.utf8)
}
