/// Why a whole upload was refused: problems that make its rows impossible to read or too many to
/// take, as opposed to a bad row, which is rejected alone.
public enum RecipientListError: Error, Sendable, Hashable, CustomStringConvertible {
  case emptyFile
  case missingPhoneColumn(found: [String])
  case duplicateColumn(String)
  /// A double quote opened on this line of the file (1-based, header included) is never closed;
  /// every row after it would be swallowed into one value, so nothing is read.
  case unclosedQuote(line: Int)
  case tooManyRows(limit: Int)
  /// A header of more columns than any list needs (`RecipientLimits.maxColumns`): refused on the
  /// header line, before a row is read.
  case tooManyColumns(found: Int, limit: Int)

  public var description: String {
    switch self {
    case .emptyFile:
      "the CSV is empty: its first line must be a header with a phone column"
    case .missingPhoneColumn(let found):
      "the CSV header has no phone column"
        + (found.isEmpty
          ? ""
          : " (found: \(found.prefix(20).map { String($0.prefix(40)) }.joined(separator: ", "))"
            + (found.count > 20 ? " and \(found.count - 20) more" : "") + ")")
        + "; name the column that holds the numbers phone"
    case .duplicateColumn(let name):
      "the CSV header has the column \(name) twice"
    case .unclosedQuote(let line):
      "the double quote opened on line \(line) is never closed"
    case .tooManyRows(let limit):
      "more than \(limit) rows; split the list into several uploads"
    case .tooManyColumns(let found, let limit):
      "the CSV header has \(found) columns; at most \(limit) (the phone and the template's variables)"
    }
  }
}
