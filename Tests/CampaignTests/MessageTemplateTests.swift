import Campaigns
import Testing

@Suite struct MessageTemplateTests {
  @Test func listsVariablesOnceInOrder() throws {
    let template = try MessageTemplate("Olá {{nome}}, novidades em {{ cidade }}! Até logo, {{nome}}.")
    #expect(template.variables == ["nome", "cidade"])
  }

  @Test func rendersValues() throws {
    let template = try MessageTemplate("Olá {{nome}}, novidades em {{ cidade }}!")
    #expect(try template.render(["nome": "Ana", "cidade": "Campinas"]) == "Olá Ana, novidades em Campinas!")
  }

  @Test func namesMayHaveAccentsDigitsAndUnderscoresAndIgnoreCase() throws {
    let template = try MessageTemplate("{{Endereço}} {{valor_2}} {{NOME}}")
    #expect(template.variables == ["endereço", "valor_2", "nome"])
    #expect(try template.render(["endereço": "Rua A", "VALOR_2": "10,50", "Nome": "Zé"]) == "Rua A 10,50 Zé")
  }

  @Test func aMissingVariableIsAnErrorNamingIt() throws {
    let template = try MessageTemplate("Olá {{nome}}, de {{cidade}} ({{uf}})")
    #expect(throws: TemplateError.missingVariables(["cidade", "uf"])) { try template.render(["nome": "Ana"]) }
    #expect(TemplateError.missingVariables(["cidade"]).description == "missing variable cidade")
    #expect(TemplateError.missingVariables(["cidade", "uf"]).description == "missing variables cidade, uf")
  }

  @Test func aBlankValueIsMissing() throws {
    let template = try MessageTemplate("Olá {{nome}}!")
    #expect(throws: TemplateError.missingVariables(["nome"])) { try template.render(["nome": "  "]) }
    #expect(template.check(variables: ["nome": ""]) == ["nome"])
  }

  @Test func checkSaysWhatARowLacks() throws {
    let template = try MessageTemplate("{{nome}} {{cidade}} {{uf}}")
    #expect(template.check(variables: ["nome": "Ana", "uf": "SP", "extra": "x"]) == ["cidade"])
    #expect(template.check(variables: ["nome": "Ana", "cidade": "Santos", "uf": "SP"]).isEmpty)
    #expect(try MessageTemplate("Sem variáveis").check(variables: [:]).isEmpty)
  }

  @Test func escapedBracesAreText() throws {
    let template = try MessageTemplate(#"Use \{{nome}} para o nome, {{nome}}"#)
    #expect(template.variables == ["nome"])
    #expect(try template.render(["nome": "Ana"]) == "Use {{nome}} para o nome, Ana")
    #expect(try MessageTemplate(#"só \{{ isto"#).render([:]) == "só {{ isto")
  }

  @Test func loneBracesAreText() throws {
    let template = try MessageTemplate("{nome} } { }} fim")
    #expect(template.variables.isEmpty)
    #expect(try template.render([:]) == "{nome} } { }} fim")
  }

  @Test func valuesAreNotTemplates() throws {
    let template = try MessageTemplate("Oi {{nome}}")
    #expect(try template.render(["nome": "{{cidade}}"]) == "Oi {{cidade}}")
  }

  @Test func malformedTemplatesSayWhere() {
    #expect(throws: TemplateError.unclosedVariable(at: 5)) { try MessageTemplate("Olá {{nome") }
    #expect(throws: TemplateError.unclosedVariable(at: 1)) { try MessageTemplate("{{nome} e mais") }
    #expect(throws: TemplateError.emptyVariableName(at: 4)) { try MessageTemplate("Oi {{  }}") }
    #expect(throws: TemplateError.invalidVariableName("nome completo", at: 1)) {
      try MessageTemplate("{{nome completo}}")
    }
    #expect(throws: TemplateError.invalidVariableName("a-b", at: 1)) { try MessageTemplate("{{a-b}}") }
    #expect(throws: TemplateError.empty) { try MessageTemplate(" \n ") }
    #expect(TemplateError.unclosedVariable(at: 5).description.contains("character 5"))
  }
}
