/// How many digits of an international number are its country calling code.
///
/// ITU-T E.164 codes are prefix-free and their length follows from the leading digits, so a short
/// table of the one- and two-digit codes splits any number without a full list of countries. The
/// split only serves masking and the Brazilian rules; the digits themselves are kept whole.
enum CountryCallingCode {
  private static let oneDigit: Set<String> = ["1", "7"]
  private static let twoDigit: Set<String> = [
    "20", "27",
    "30", "31", "32", "33", "34", "36", "39",
    "40", "41", "43", "44", "45", "46", "47", "48", "49",
    "51", "52", "53", "54", "55", "56", "57", "58",
    "60", "61", "62", "63", "64", "65", "66",
    "81", "82", "84", "86",
    "90", "91", "92", "93", "94", "95", "98",
  ]

  /// The length of the code that `digits` (an international number without `+`) starts with.
  static func length(of digits: String) -> Int {
    if oneDigit.contains(String(digits.prefix(1))) { return 1 }
    if twoDigit.contains(String(digits.prefix(2))) { return 2 }
    return 3
  }
}
