import Campaigns
import Testing

@Suite struct OptOutTests {
  @Test(arguments: [
    ("STOP", OptOut.Keyword.stop),
    ("stop", .stop),
    ("  Stop!!! ", .stop),
    ("SAIR", .sair),
    ("Saír.", .sair),
    ("sair 🙏", .sair),
    ("quero sair", .sair),
    ("Quero sair da lista, obrigado", .sair),
    ("PARAR", .parar),
    ("por favor parar", .parar),
    ("Pare de me mandar mensagem!", .parar),
    ("pare", .parar),
    ("CANCELAR", .cancelar),
    ("cancelar, pfv", .cancelar),
    ("Cancele", .cancelar),
    ("\nparar\n", .parar),
    ("STOP STOP", .stop),
    ("sair, parar", .sair),
  ])
  func optOuts(message: String, keyword: OptOut.Keyword) {
    #expect(OptOut.keyword(in: message) == keyword)
    #expect(OptOut.isOptOut(message))
  }

  @Test(arguments: [
    "",
    "   ",
    "Oi, tudo bem?",
    "não quero sair",
    "nao quero parar de receber",
    "Como faço para cancelar o pedido?",
    "vou sair mais tarde",
    "sair ou ficar?",
    "stopped",
    "parada",
    "quero sair da lista por favor agora mesmo eu já disse",
    "ok",
  ])
  func ordinaryReplies(message: String) {
    #expect(OptOut.keyword(in: message) == nil)
  }
}
