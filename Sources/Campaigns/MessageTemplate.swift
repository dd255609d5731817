/// A campaign's message text with `{{nome}}`-style variables, parsed once when the campaign is
/// created and rendered for each recipient.
///
/// Rules:
/// - a variable is `{{name}}`; spaces inside the braces are ignored; a name is letters (accents
///   included), digits and `_`, and names are matched without regard to case, because spreadsheet
///   headers are typed by people (`Nome`, `NOME`);
/// - `\{{` writes a literal `{{`; a lone `{`, `}` or `}}` is plain text;
/// - an unclosed `{{` is an error, so a typo is found at creation and never sent;
/// - a variable without a value, or with only blanks, is missing: rendering fails naming it
///   rather than sending a message with a hole in it;
/// - values are inserted as they are, never read as templates themselves.
public struct MessageTemplate: Sendable, Hashable {
  enum Segment: Sendable, Hashable {
    case text(String)
    case variable(String)
  }

  /// The text as the tenant wrote it.
  public let source: String
  /// The variables the template uses, lowercased, each once, in order of first use.
  public let variables: [String]
  let segments: [Segment]

  public init(_ source: String) throws(TemplateError) {
    guard !source.allSatisfy(\.isWhitespace) else { throw .empty }
    self.source = source
    self.segments = try Self.parse(source)
    var seen = Set<String>()
    self.variables = segments.compactMap { segment in
      guard case .variable(let name) = segment, seen.insert(name).inserted else { return nil }
      return name
    }
  }

  /// The variables that `values` lacks for this template, in the template's order; empty when the
  /// recipient's message can be written. Used when recipients are added, so a row that could only
  /// be sent with a hole in it is rejected up front instead of failing at send time.
  public func check(variables values: [String: String]) -> [String] {
    let known = Self.lookup(values)
    return variables.filter { known[$0] == nil }
  }

  /// The message for one recipient; throws `.missingVariables` naming every variable without a value.
  public func render(_ values: [String: String]) throws(TemplateError) -> String {
    let known = Self.lookup(values)
    let missing = variables.filter { known[$0] == nil }
    guard missing.isEmpty else { throw .missingVariables(missing) }
    var message = ""
    for segment in segments {
      switch segment {
      case .text(let text): message += text
      case .variable(let name): message += known[name] ?? ""
      }
    }
    return message
  }

  /// Values by lowercased name, blanks left out, so that a blank counts as missing.
  private static func lookup(_ values: [String: String]) -> [String: String] {
    var known: [String: String] = [:]
    for (name, value) in values where !value.allSatisfy(\.isWhitespace) {
      known[name.trimmed.lowercased()] = value
    }
    return known
  }

  private static func parse(_ source: String) throws(TemplateError) -> [Segment] {
    let characters = Array(source)
    var segments: [Segment] = []
    var text = ""
    var index = 0
    func opensVariable(at position: Int) -> Bool {
      position + 1 < characters.count && characters[position] == "{" && characters[position + 1] == "{"
    }
    while index < characters.count {
      if characters[index] == "\\" && opensVariable(at: index + 1) {
        text += "{{"
        index += 3
      } else if opensVariable(at: index) {
        let start = index
        guard let close = closingBraces(in: characters, from: index + 2) else {
          throw .unclosedVariable(at: start + 1)
        }
        let name = String(characters[(index + 2)..<close]).trimmed
        guard !name.isEmpty else { throw .emptyVariableName(at: start + 1) }
        guard name.allSatisfy(isNameCharacter) else { throw .invalidVariableName(name, at: start + 1) }
        if !text.isEmpty { segments.append(.text(text)) }
        text = ""
        segments.append(.variable(name.lowercased()))
        index = close + 2
      } else {
        text.append(characters[index])
        index += 1
      }
    }
    if !text.isEmpty { segments.append(.text(text)) }
    return segments
  }

  /// The index of the `}}` that closes a variable, or nil if the text ends first.
  private static func closingBraces(in characters: [Character], from start: Int) -> Int? {
    var index = start
    while index + 1 < characters.count {
      if characters[index] == "}" && characters[index + 1] == "}" { return index }
      index += 1
    }
    return nil
  }

  private static func isNameCharacter(_ character: Character) -> Bool {
    character.isLetter || character == "_" || ("0"..."9").contains(character)
  }
}
