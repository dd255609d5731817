import Campaigns
import Foundation
import Testing

@Suite struct RecipientListTests {
  let template = try! MessageTemplate("Olá {{nome}}!")

  func reasons(_ list: RecipientList) -> [Int: String] {
    Dictionary(uniqueKeysWithValues: list.rejected.map { ($0.row, $0.reason.description) })
  }

  @Test func jsonRowsAreAcceptedOrRejectedWithTheirRowNumbers() throws {
    let rows = [
      RecipientRow(phone: "+55 (11) 99999-9999", variables: ["nome": "Ana"]),
      RecipientRow(phone: "(20) 99999-9999", variables: ["nome": "Bia"]),
      RecipientRow(phone: "11999999999", variables: ["nome": "Ana de novo"]),
      RecipientRow(phone: "(21) 98888-7777", variables: [:]),
      RecipientRow(phone: "(21) 98888-7777", variables: ["Nome": " Caio "]),
    ]
    let list = try RecipientList(rows: rows, template: template)
    #expect(list.accepted.map(\.row) == [1, 5])
    #expect(list.accepted.map(\.phone.e164) == ["+5511999999999", "+5521988887777"])
    #expect(list.accepted[1].variables == ["nome": "Caio"])
    #expect(
      reasons(list) == [
        2: "20 is not a Brazilian area code (DDD)",
        3: "duplicate of row 1",
        4: "missing variable nome",
      ])
    #expect(list.rejected.first { $0.row == 3 }?.phone == "11999999999")
  }

  @Test func theNinthDigitDoesNotHideADuplicate() throws {
    let rows = [RecipientRow(phone: "(31) 98888-7777"), RecipientRow(phone: "553188887777")]
    let list = try RecipientList(rows: rows, template: nil)
    #expect(list.accepted.count == 1)
    #expect(list.rejected.map(\.reason) == [.duplicate(ofRow: 1)])
  }

  /// PostgreSQL cannot store NUL: such a row is refused with its number, not the whole request with
  /// a database error.
  @Test func aVariableHoldingNULIsRejectedAsARow() throws {
    let rows = [
      RecipientRow(phone: "(31) 98888-7777", variables: ["nome": "A\u{0}na"]),
      RecipientRow(phone: "(31) 97777-6666", variables: ["nome": "Bia", "x\u{0}": "1"]),
      RecipientRow(phone: "(31) 96666-5555", variables: ["nome": "Caio"]),
    ]
    let list = try RecipientList(rows: rows, template: template)
    #expect(list.accepted.map(\.row) == [3])
    #expect(list.rejected.map(\.reason) == [.nulCharacter(variable: "nome"), .nulCharacter(variable: "x\u{0}")])
    #expect(reasons(list)[2] == "the variable x\\0 holds a NUL character; remove it")
  }

  /// A value no message needs is refused with its row, its length and the limit; one at the limit
  /// goes in. Its text is not echoed back.
  @Test func aValuePastTheLimitIsRejectedAsARow() throws {
    let limit = RecipientLimits.maxValueLength
    let rows = [
      RecipientRow(phone: "(31) 98888-7777", variables: ["nome": String(repeating: "a", count: limit + 1)]),
      RecipientRow(phone: "(31) 97777-6666", variables: ["nome": String(repeating: "b", count: limit)]),
      RecipientRow(
        phone: "(31) 96666-5555", variables: ["nome": "Caio", "nota": String(repeating: "x", count: 80_000)]),
    ]
    let list = try RecipientList(rows: rows, template: template)
    #expect(list.accepted.map(\.row) == [2])
    #expect(
      list.rejected.map(\.reason) == [
        .valueTooLong(variable: "nome", length: limit + 1, limit: limit),
        .valueTooLong(variable: "nota", length: 80_000, limit: limit),
      ])
    #expect(reasons(list)[3] == "the variable nota holds 80000 characters; at most \(limit)")
  }

  @Test func jsonDecodingIsLenientSoEveryRowIsReported() throws {
    let json = #"""
      [{"phone": 5511999999999, "vars": {"nome": "Ana", "valor": 10.5, "vip": true, "nada": null}},
       {"vars": {"nome": "Bia"}},
       {"phone": "11 98888-7777", "vars": {"nome": 42}}]
      """#
    let rows = try JSONDecoder().decode([RecipientRow].self, from: Data(json.utf8))
    let list = try RecipientList(rows: rows, template: template)
    #expect(list.accepted.map(\.row) == [1, 3])
    #expect(list.accepted[0].variables == ["nome": "Ana", "valor": "10.5", "vip": "true"])
    #expect(list.accepted[1].variables == ["nome": "42"])
    #expect(reasons(list) == [2: "no phone number given"])
  }

  @Test func thePlansContactsPerListRejectsTheRowsPastIt() throws {
    let rows = (1...5).map { RecipientRow(phone: "(11) 9999\($0)-0000", variables: ["nome": "N\($0)"]) }
    let earlier: Set = [try PhoneNumber(parsing: "(11) 97777-0000")]
    let limits = RecipientLimits(contactsPerList: 3)
    let list = try RecipientList(rows: rows, template: template, limits: limits, alreadyListed: earlier)
    #expect(list.accepted.map(\.row) == [1, 2])
    #expect(list.rejected.map(\.row) == [3, 4, 5])
    #expect(reasons(list)[3] == "the plan allows 3 contacts per list")
  }

  @Test func aPhoneFromAnEarlierUploadIsRejected() throws {
    let earlier: Set = [try PhoneNumber(parsing: "(31) 8888-7777")]
    let list = try RecipientList(
      rows: [RecipientRow(phone: "+55 31 98888-7777")], template: nil, alreadyListed: earlier)
    #expect(list.rejected.map(\.reason) == [.alreadyListed])
  }

  /// Tried: a header of 130,000 columns took 0.3 s a MiB and came back whole in the error. Now
  /// the header line alone refuses it, and an error lists at most 20 names.
  @Test func aHeaderOfTooManyColumnsFailsTheUploadAndIsNotEchoed() throws {
    let limit = RecipientLimits.maxColumns
    let wide =
      "phone," + (1..<limit).map { "c\($0)" }.joined(separator: ",") + "\n11999999999"
      + String(repeating: ",x", count: limit - 1)
    #expect(try RecipientList(csv: wide, template: nil).accepted.count == 1)
    let wider = "phone," + (1...limit).map { "c\($0)" }.joined(separator: ",") + "\n11999999999\n"
    #expect(throws: RecipientListError.tooManyColumns(found: limit + 1, limit: limit)) {
      try RecipientList(csv: wider, template: nil)
    }
    let noPhone = (1..<limit).map { "c\($0)" }.joined(separator: ",") + "\nx\n"
    do {
      _ = try RecipientList(csv: noPhone, template: nil)
      Issue.record("a header without phone was read")
    } catch {
      #expect("\(error)".contains("c20 and \(limit - 21) more") && !"\(error)".contains("c21,"), "\(error)")
    }
  }

  @Test func tooManyRowsFailsTheUpload() {
    let rows = Array(repeating: RecipientRow(phone: "11999999999"), count: 11)
    #expect(throws: RecipientListError.tooManyRows(limit: 10)) {
      try RecipientList(rows: rows, template: nil, limits: RecipientLimits(maxRows: 10))
    }
  }

  // MARK: CSV

  @Test func csvWithQuotesAndCommasInside() throws {
    let csv = """
      phone,nome,cidade
      11999999999,"Silva, Ana","São Paulo"
      "(21) 98888-7777","Caio ""Kiko"" Lima",Rio
      31977776666,"Duas
      linhas",BH
      """
    let list = try RecipientList(csv: csv, template: template)
    #expect(list.rejected.isEmpty)
    #expect(list.accepted.map(\.variables["nome"]) == ["Silva, Ana", #"Caio "Kiko" Lima"#, "Duas\nlinhas"])
    #expect(list.accepted.map(\.variables["cidade"]) == ["São Paulo", "Rio", "BH"])
  }

  @Test func excelInBrazilBOMCRLFAndSemicolons() throws {
    let csv =
      "\u{FEFF}Telefone;PHONE;Nome;Valor\r\nx;(11) 99999-9999;Ana;10,50\r\ny;(11) 98888-7777;\"Bia; filha\";7,00\r\n"
    let list = try RecipientList(csv: csv, template: try MessageTemplate("{{nome}}: R$ {{valor}} {{telefone}}"))
    #expect(list.rejected.isEmpty)
    #expect(
      list.accepted.map(\.variables) == [
        ["telefone": "x", "nome": "Ana", "valor": "10,50"],
        ["telefone": "y", "nome": "Bia; filha", "valor": "7,00"],
      ])
  }

  @Test func tabsAndCarriageReturnsAlone() throws {
    let list = try RecipientList(csv: "phone\tnome\r11999999999\tAna\r11988887777\tBia", template: template)
    #expect(list.accepted.map(\.variables["nome"]) == ["Ana", "Bia"])
  }

  @Test func csvRowNumbersDuplicatesAndMissingVariables() throws {
    let csv = """
      phone,nome
      11999999999,Ana
      (11) 99999-9999,Ana outra vez

      abc,Bia
      11988887777,
      11977776666,Caio
      ,,
      11966665555,Dani
      """
    let list = try RecipientList(csv: csv, template: template)
    #expect(list.accepted.map(\.row) == [1, 6, 8])
    #expect(
      reasons(list) == [
        2: "duplicate of row 1",
        4: PhoneNumberError.invalidCharacters.description,
        5: "missing variable nome",
      ])
    #expect(list.rejected.map(\.phone) == ["(11) 99999-9999", "abc", "11988887777"])
  }

  @Test func aRowWithMoreValuesThanTheHeaderIsRejected() throws {
    let csv = "phone,nome\n11999999999,Silva, Ana\n11988887777,Bia,,\n"
    let list = try RecipientList(csv: csv, template: template)
    #expect(list.rejected.map(\.reason) == [.tooManyFields(expected: 2, found: 3)])
    #expect(list.accepted.map(\.row) == [2])
  }

  @Test func shortRowsLackTheirLastVariables() throws {
    let list = try RecipientList(csv: "phone,cidade,nome\n11999999999,Santos\n", template: template)
    #expect(list.rejected.map(\.reason) == [.missingVariables(["nome"])])
  }

  @Test func theHeaderNeedsAPhoneColumn() {
    #expect(throws: RecipientListError.missingPhoneColumn(found: ["Telefone", "nome"])) {
      try RecipientList(csv: "Telefone,nome\n11999999999,Ana\n", template: nil)
    }
    #expect(throws: RecipientListError.duplicateColumn("Nome")) {
      try RecipientList(csv: "phone,nome,Nome\n", template: nil)
    }
    #expect(throws: RecipientListError.emptyFile) { try RecipientList(csv: "\u{FEFF}\r\n", template: nil) }
    #expect(throws: RecipientListError.emptyFile) { try RecipientList(csv: "", template: nil) }
    let description = RecipientListError.missingPhoneColumn(found: ["Telefone"]).description
    #expect(description.contains("found: Telefone"))
  }

  @Test func anUnclosedQuoteFailsTheUploadWithItsLine() {
    let csv = "phone,nome\n11999999999,Ana\n11988887777,\"Bia\n11977776666,Caio\n"
    #expect(throws: RecipientListError.unclosedQuote(line: 3)) { try RecipientList(csv: csv, template: nil) }
  }

  @Test func aStrayQuoteInsideAValueIsText() throws {
    let list = try RecipientList(csv: "phone,nome\n11999999999,O\"Brien\n", template: template)
    #expect(list.accepted.first?.variables["nome"] == "O\"Brien")
  }

  @Test func aHeaderAloneHasNoRows() throws {
    let list = try RecipientList(csv: "phone,nome\r\n", template: template)
    #expect(list.accepted.isEmpty && list.rejected.isEmpty)
  }

  @Test func csvRowLimitCountsRowsNotBlankLines() throws {
    let csv = "phone\n11999999999\n\n11988887777\n\n"
    #expect(try RecipientList(csv: csv, template: nil, limits: RecipientLimits(maxRows: 2)).accepted.count == 2)
    #expect(throws: RecipientListError.tooManyRows(limit: 1)) {
      try RecipientList(csv: csv, template: nil, limits: RecipientLimits(maxRows: 1))
    }
  }

  @Test func everyRowIsAccountedFor() throws {
    var lines = ["phone,nome"]
    for index in 0..<500 {
      let phone = index % 7 == 0 ? "bad\(index)" : "(11) 9\(String(format: "%04d", index % 300))-0000"
      lines.append("\(phone),\(index % 11 == 0 ? "" : "N\(index)")")
    }
    let list = try RecipientList(csv: lines.joined(separator: "\n"), template: template)
    #expect(list.accepted.count + list.rejected.count == 500)
    #expect(Set(list.accepted.map(\.row)).isDisjoint(with: list.rejected.map(\.row)))
    #expect(Set(list.accepted.map(\.phone)).count == list.accepted.count)
  }
}
