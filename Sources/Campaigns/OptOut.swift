import Foundation

/// Recognizes a recipient's reply that asks to stop receiving messages: STOP, SAIR, PARAR or
/// CANCELAR, which WhatsApp's policy and the LGPD require to be honoured at once.
///
/// The rule, chosen so that an ordinary reply is never taken for an opt-out:
/// 1. case and accents are folded (`SAÍR`, `Parar`), punctuation, symbols and emoji become spaces;
/// 2. the message then holds a keyword, also in its imperative (`pare`, `cancele`); the first
///    one names the opt-out when there are several (`STOP STOP`);
/// 3. every other word is from a short closed list of courtesy and object words
///    (`quero sair`, `por favor parar`, `sair da lista`, `pare de me mandar mensagem`);
/// 4. at most eight words in all.
///
/// Any other word disqualifies the message, so a negation (`não quero sair`), a question
/// (`como faço para cancelar o pedido?`) or a sentence that merely mentions a keyword is not an
/// opt-out. A missed opt-out is the costlier mistake, but words outside the list are open-ended;
/// the tenant still sees every reply.
public enum OptOut {
  /// The keywords, as the opt-out is recorded.
  public enum Keyword: String, Sendable, Hashable, CaseIterable {
    case stop = "STOP"
    case sair = "SAIR"
    case parar = "PARAR"
    case cancelar = "CANCELAR"
  }

  /// The keyword `message` opts out with, or nil when it is not an opt-out.
  public static func keyword(in message: String) -> Keyword? {
    let words = normalizedWords(message)
    guard !words.isEmpty, words.count <= maximumWords else { return nil }
    var found: Keyword?
    for word in words {
      if let keyword = keywords[word] {
        found = found ?? keyword
      } else if !courtesy.contains(word) {
        return nil
      }
    }
    return found
  }

  public static func isOptOut(_ message: String) -> Bool { keyword(in: message) != nil }

  private static let maximumWords = 8

  private static let keywords: [String: Keyword] = [
    "stop": .stop,
    "sair": .sair,
    "parar": .parar, "pare": .parar,
    "cancelar": .cancelar, "cancele": .cancelar,
  ]

  /// Words that may surround a keyword without changing what it asks; folded like the message.
  private static let courtesy: Set<String> = [
    "por", "favor", "porfavor", "pf", "pfv", "pfvr", "please", "pls",
    "obrigado", "obrigada", "obg", "grato", "grata",
    "eu", "quero", "gostaria", "de", "pode", "podem", "me", "ja", "agora",
    "da", "dessa", "desta", "lista", "listas",
    "receber", "mandar", "enviar", "mensagem", "mensagens", "msg", "msgs",
  ]

  private static func normalizedWords(_ message: String) -> [String] {
    let folded = message.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).lowercased()
    let spaced = String(String.UnicodeScalarView(folded.unicodeScalars.map { $0.isWordPart ? $0 : " " }))
    return spaced.split(separator: " ").map(String.init)
  }
}

extension Unicode.Scalar {
  fileprivate var isWordPart: Bool { properties.isAlphabetic || properties.numericType != nil }
}
