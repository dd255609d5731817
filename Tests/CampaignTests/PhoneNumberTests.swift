import Campaigns
import Foundation
import Testing

@Suite struct PhoneNumberTests {
  @Test(arguments: [
    ("+55 (11) 99999-9999", "+5511999999999"),
    ("5511999999999", "+5511999999999"),
    ("11999999999", "+5511999999999"),
    ("(11) 99999-9999", "+5511999999999"),
    ("11 9 9999 9999", "+5511999999999"),
    ("11.99999.9999", "+5511999999999"),
    (" +55 11 99999-9999\t", "+5511999999999"),
    ("011 99999-9999", "+5511999999999"),
    ("0 15 11 99999-9999", "+5511999999999"),
    ("0055 11 99999 9999", "+5511999999999"),
    ("(55) 99999-9999", "+5555999999999"),
    ("+55 11 3333-4444", "+551133334444"),
    ("(21) 2222-3333", "+552122223333"),
    ("(99) 98888-7777", "+5599988887777"),
  ])
  func brazilianNumbersInEverySpelling(input: String, e164: String) throws {
    let phone = try PhoneNumber(parsing: input)
    #expect(phone.e164 == e164)
    #expect(phone.isBrazilian)
    #expect(!phone.mayNeedNinthDigit)
  }

  @Test func chatIdAndE164() throws {
    let phone = try PhoneNumber(parsing: "+55 (11) 99999-9999")
    #expect(phone.chatId == "5511999999999@c.us")
    #expect(phone.e164 == "+5511999999999")
    #expect(phone.countryCode == "55")
    #expect(phone.areaCode == "11")
    #expect(phone.nationalNumber == "11999999999")
  }

  @Test(arguments: ["(11) 9999-8888", "551199998888", "+55 11 9999-8888", "11 6999 8888"])
  func oldEightDigitMobilesAreKeptAndMarked(input: String) throws {
    let phone = try PhoneNumber(parsing: input)
    #expect(phone.mayNeedNinthDigit)
    #expect(phone.nationalNumber.count == 10)
    #expect(phone.chatId == phone.e164.dropFirst() + "@c.us")
  }

  @Test func theNinthDigitFormIsOneLine() throws {
    let old = try PhoneNumber(parsing: "(11) 9999-8888")
    let current = try PhoneNumber(parsing: "(11) 99999-8888")
    #expect(old != current)
    #expect(old.withNinthDigit == current)
    #expect(current.withNinthDigit == current)
    let landline = try PhoneNumber(parsing: "(11) 3333-4444")
    #expect(!landline.mayNeedNinthDigit)
    #expect(landline.withNinthDigit == landline)
  }

  @Test func otherCountriesNeedAPlus() throws {
    let us = try PhoneNumber(parsing: "+1 (415) 555-2671")
    #expect(us.countryCode == "1")
    #expect(us.e164 == "+14155552671")
    #expect(us.areaCode == nil)
    #expect(try PhoneNumber(parsing: "+351 912 345 678").countryCode == "351")
    #expect(try PhoneNumber(parsing: "+44 20 7946 0958").countryCode == "44")
    #expect(try PhoneNumber(parsing: "00351912345678").e164 == "+351912345678")
    #expect(try PhoneNumber(parsing: "0912 345 678", defaultCountryCode: "351").e164 == "+351912345678")
  }

  @Test(arguments: [
    ("", PhoneNumberError.empty),
    ("   ", .empty),
    ("( ) -", .empty),
    ("abc", .invalidCharacters),
    ("11 99999-9999 ramal 2", .invalidCharacters),
    ("11+999999999", .invalidCharacters),
    ("++5511999999999", .invalidCharacters),
    ("１１９９９９９９９９９", .invalidCharacters),
    ("99999-9999", .missingAreaCode),
    ("9999-9999", .missingAreaCode),
    ("123", .wrongLength(digits: 3)),
    ("119999999999", .wrongLength(digits: 12)),
    ("+55 11 999", .wrongLength(digits: 7)),
    ("+55 11 99999-99999", .wrongLength(digits: 14)),
    ("+1234567890123456", .wrongLength(digits: 16)),
    ("+1 23", .wrongLength(digits: 3)),
    ("(20) 99999-9999", .unknownAreaCode("20")),
    ("(10) 99999-9999", .unknownAreaCode("10")),
    ("+55 (23) 99999-9999", .unknownAreaCode("23")),
    ("0800 123 4567", .unknownAreaCode("80")),
    ("+0 11 99999", .unknownCountryCode("0")),
    ("(11) 89999-9999", .mobileMustStartWithNine),
    ("(11) 1999-9999", .notASubscriberNumber),
    ("(11) 0999-9999", .notASubscriberNumber),
  ])
  func invalidNumbersSayWhy(input: String, error: PhoneNumberError) {
    #expect(throws: error) { try PhoneNumber(parsing: input) }
  }

  @Test func reasonsReadWellAndNeverRepeatTheNumber() {
    let inputs = ["(11) 87654-3210", "(20) 98765-4321", "119876543210", "98765-4321", "11 98765-4321 x"]
    for input in inputs {
      do {
        _ = try PhoneNumber(parsing: input)
        Issue.record("\(input) was accepted")
      } catch {
        #expect(!error.description.contains("4321") && !error.description.contains("3210"))
        #expect(error.description.count > 20)
      }
    }
    #expect(PhoneNumberError.unknownAreaCode("20").description == "20 is not a Brazilian area code (DDD)")
  }

  @Test func everyBrazilianAreaCodeAndNoOther() {
    let valid: Set<Int> = Set(11...19).union([21, 22, 24, 27, 28]).union([31, 32, 33, 34, 35, 37, 38])
      .union(41...46).union([47, 48, 49, 51, 53, 54, 55]).union(61...69).union([71, 73, 74, 75, 77, 79])
      .union(81...89).union(91...99)
    #expect(valid.count == 67)
    for code in 10...99 {
      let result = Result { try PhoneNumber(parsing: "(\(code)) 99999-8888") }
      if valid.contains(code) {
        #expect((try? result.get())?.areaCode == String(code))
      } else {
        #expect(throws: PhoneNumberError.unknownAreaCode(String(code))) { try result.get() }
      }
    }
  }

  @Test func maskedForLogs() throws {
    #expect(try PhoneNumber(parsing: "+55 (11) 99999-9999").masked == "+55 11 9****-9999")
    #expect(try PhoneNumber(parsing: "(11) 9876-5432").masked == "+55 11 9***-5432")
    #expect(try PhoneNumber(parsing: "+1 415 555 2671").masked == "+1 4*****2671")
    let phone = try PhoneNumber(parsing: "(11) 98765-4321")
    #expect("\(phone)" == "+55 11 9****-4321")
    #expect(!String(reflecting: phone).contains("98765"))
  }

  @Test func chatIdsFromWebhooks() throws {
    let phone = try PhoneNumber(chatId: "553188887777@c.us")
    #expect(phone.mayNeedNinthDigit)
    #expect(phone.withNinthDigit.e164 == "+5531988887777")
    #expect(try PhoneNumber(chatId: "5511999999999@s.whatsapp.net").e164 == "+5511999999999")
    #expect(try PhoneNumber(chatId: "5511999999999").e164 == "+5511999999999")
    #expect(throws: PhoneNumberError.notAPersonalChat) { try PhoneNumber(chatId: "120363025246125486@g.us") }
    #expect(throws: PhoneNumberError.notAPersonalChat) { try PhoneNumber(chatId: "123456789@lid") }
    #expect(throws: PhoneNumberError.invalidCharacters) { try PhoneNumber(chatId: "55119999x@c.us") }
    #expect(throws: PhoneNumberError.empty) { try PhoneNumber(chatId: "@c.us") }
  }

  @Test func codableAsE164() throws {
    let phone = try PhoneNumber(parsing: "(11) 99999-9999")
    let data = try JSONEncoder().encode([phone])
    #expect(String(decoding: data, as: UTF8.self) == #"["+5511999999999"]"#)
    #expect(try JSONDecoder().decode([PhoneNumber].self, from: data) == [phone])
    #expect(throws: DecodingError.self) { try JSONDecoder().decode([PhoneNumber].self, from: Data(#"["1"]"#.utf8)) }
  }
}
