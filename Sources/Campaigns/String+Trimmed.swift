extension StringProtocol {
  /// Without leading and trailing whitespace, newlines included; spreadsheets and hand-typed JSON
  /// carry both around values.
  var trimmed: String {
    guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace })
    else { return "" }
    return String(self[first...last])
  }
}
