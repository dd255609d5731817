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

  public var description: String {
    switch self {
    case .emptyFile:
      "the CSV is empty: its first line must be a header with a phone column"
    case .missingPhoneColumn(let found):
      "the CSV header has no phone column"
        + (found.isEmpty ? "" : " (found: \(found.joined(separator: ", ")))")
        + "; name the column that holds the numbers phone"
    case .duplicateColumn(let name):
      "the CSV header has the column \(name) twice"
    case .unclosedQuote(let line):
      "the double quote opened on line \(line) is never closed"
    case .tooManyRows(let limit):
      "more than \(limit) rows; split the list into several uploads"
    }
  }
}
