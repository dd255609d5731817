import Foundation

/// Why one row of a recipient list was refused. The description reads as the `reason` of an API
/// response: `duplicate of row 3`, `missing variable nome`.
public enum RecipientRejection: Error, Sendable, Hashable, CustomStringConvertible {
  case invalidPhone(PhoneNumberError)
  /// The same phone as an earlier accepted row, after normalization (and the ninth digit).
  case duplicate(ofRow: Int)
  /// The campaign already has this phone from an earlier upload.
  case alreadyListed
  case missingVariables([String])
  /// Accepting the row would pass the plan's contacts per list.
  case overContactsPerList(limit: Int)
  /// A CSV row with values beyond the header's columns: most often a value holding the
  /// separator without quotes, which would shift every value after it.
  case tooManyFields(expected: Int, found: Int)
  /// A variable (its name or its value) holding a NUL character, which PostgreSQL cannot store.
  case nulCharacter(variable: String)
  /// A variable's value longer than `RecipientLimits.maxValueLength` characters: no message
  /// needs it, and one upload of such values would be stored and rendered row after row.
  case valueTooLong(variable: String, length: Int, limit: Int)

  public var description: String {
    switch self {
    case .invalidPhone(let error):
      error.description
    case .duplicate(let row):
      "duplicate of row \(row)"
    case .alreadyListed:
      "already in this campaign's recipients"
    case .missingVariables(let names):
      TemplateError.missingVariables(names).description
    case .overContactsPerList(let limit):
      "the plan allows \(limit) contacts per list"
    case .tooManyFields(let expected, let found):
      "the row has \(found) values but the header \(expected) columns: put values that contain the "
        + "separator between double quotes"
    case .nulCharacter(let variable):
      "the variable \(variable.replacingOccurrences(of: "\u{0}", with: "\\0")) holds a NUL character; remove it"
    case .valueTooLong(let variable, let length, let limit):
      "the variable \(variable.prefix(64)) holds \(length) characters; at most \(limit)"
    }
  }
}
