/// Why a template cannot be used, or why one recipient's message cannot be written. Positions are
/// 1-based characters, as an editor counts them.
public enum TemplateError: Error, Sendable, Hashable, CustomStringConvertible {
  case empty
  case unclosedVariable(at: Int)
  case emptyVariableName(at: Int)
  case invalidVariableName(String, at: Int)
  /// The values given lack these variables (or hold only blanks for them).
  case missingVariables([String])

  public var description: String {
    switch self {
    case .empty:
      "the template is empty"
    case .unclosedVariable(let position):
      "the {{ at character \(position) is never closed with }}; write \\{{ for a literal {{"
    case .emptyVariableName(let position):
      "the variable at character \(position) has no name"
    case .invalidVariableName(let name, let position):
      "\"\(name)\" at character \(position) is not a variable name: use letters, digits and _"
    case .missingVariables(let names):
      "missing " + (names.count == 1 ? "variable " : "variables ") + names.joined(separator: ", ")
    }
  }
}
