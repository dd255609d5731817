import Payments
import Testing

/// A boleto's CPF is checked where it is typed: eleven ASCII digits whose last two are the check
/// digits of the first nine, and not one digit repeated (which checks but is no one's).
@Suite struct CPFTests {
  @Test func onlyANumberWhoseCheckDigitsCheckIsACPF() {
    for valid in ["52998224725", "11144477735", "39053344705"] {
      #expect(CPF.isValid(valid), "\(valid)")
    }
    for invalid in [
      "52998224724",  // the last check digit is off by one
      "52998224715",  // the first check digit is off by one
      "11111111111",  // one digit repeated checks, yet is refused
      "5299822472",  // ten digits
      "529982247250",  // twelve
      "529.982.247-25",  // punctuation: digits only
      "5299822472a",
      "٥٢٩٩٨٢٢٤٧٢٥",  // Arabic-Indic digits are numbers, not ASCII
      "",
    ] {
      #expect(!CPF.isValid(invalid), "\(invalid)")
    }
  }
}
