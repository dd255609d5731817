/// A Brazilian taxpayer number (Cadastro de Pessoas Físicas): eleven digits, the last two check
/// digits of the first nine. Gateways refuse a boleto for a CPF that does not check, so it is
/// caught at the request, where the person typing it can fix it.
public enum CPF {
  public static func isValid(_ text: String) -> Bool {
    let digits = text.compactMap { $0.isASCII ? $0.wholeNumberValue : nil }
    guard text.count == 11, digits.count == 11, Set(digits).count > 1 else { return false }
    func check(_ count: Int) -> Int {
      let sum = zip(digits.prefix(count), stride(from: count + 1, to: 1, by: -1)).map { $0 * $1 }.reduce(0, +)
      return sum * 10 % 11 % 10
    }
    return check(9) == digits[9] && check(10) == digits[10]
  }
}
