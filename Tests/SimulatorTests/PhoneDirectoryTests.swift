import Testing
import WAHASimulator
import Wire

@Suite struct PhoneDirectoryTests {
  @Test func brazilianMobileWithNinthDigitExistsAsGiven() {
    #expect(PhoneDirectory.lookUp("5511999998888") == .exists(chatId: "5511999998888@c.us"))
    #expect(PhoneDirectory.lookUp("+55 (21) 98765-4321") == .exists(chatId: "5521987654321@c.us"))
  }

  @Test func withoutNinthDigitExistsUnderTheThirteenDigitChatId() {
    #expect(PhoneDirectory.lookUp("551199998888") == .exists(chatId: "5511999998888@c.us"))
    #expect(PhoneDirectory.lookUp("552187654321") == .exists(chatId: "5521987654321@c.us"))
  }

  @Test func numbersEndingInFourZerosAreNotOnWhatsApp() {
    #expect(PhoneDirectory.lookUp("5511999990000") == .notOnWhatsApp)
    #expect(PhoneDirectory.lookUp("551199990000") == .notOnWhatsApp)
    #expect(PhoneDirectory.lookUp("14155550000") == .notOnWhatsApp)
  }

  @Test func otherCountriesExistAsGiven() {
    #expect(PhoneDirectory.lookUp("14155552671") == .exists(chatId: "14155552671@c.us"))
  }

  @Test func rejectsWhatIsNotAPhoneNumber() {
    #expect(PhoneDirectory.lookUp("") == .invalid)
    #expect(PhoneDirectory.lookUp("abc") == .invalid)
    #expect(PhoneDirectory.lookUp("1234567") == .invalid)
    #expect(PhoneDirectory.lookUp("1234567890123456") == .invalid)
  }
}
