import ArgumentParser
import CampaignStore
import Campaigns
import Foundation
import Store

/// `whago contact`: a data subject's rights (LGPD Art. 18) from the command line, for operators
/// answering a request that reached WHAGO rather than the tenant.
struct ContactCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "contact", abstract: "Export or erase what a tenant holds about one phone number (LGPD).",
    subcommands: [Export.self, Erase.self])

  struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Print, as JSON, everything TENANT holds about PHONE: its messages, variables, texts and opt-out.")
    @OptionGroup var global: GlobalOptions
    @Argument var tenant: String
    @Argument(help: "The number, e.g. +5511999998888 or (11) 99999-8888.") var phone: String

    func run() async throws {
      let phones = try ContactCommand.spellings(phone)
      try await global.withStore { store in
        let id = try await store.tenant(named: tenant).id
        print(try JSONOutput.encode(try await store.contactRecord(tenantID: id, phones: phones)))
      }
    }
  }

  struct Erase: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Erase PHONE from TENANT's campaigns and opt-outs, keeping only a hash so it is never messaged again.")
    @OptionGroup var global: GlobalOptions
    @Argument var tenant: String
    @Argument var phone: String
    @Flag(help: "Erase: without it, nothing changes.") var yes = false

    func run() async throws {
      let phones = try ContactCommand.spellings(phone)
      guard yes else { throw ValidationError("erasing cannot be undone: run again with --yes") }
      try await global.withStore { store in
        let id = try await store.tenant(named: tenant).id
        print(try JSONOutput.encode(try await store.eraseContact(tenantID: id, phones: phones)))
      }
    }
  }

  static func spellings(_ text: String) throws -> [String] {
    do {
      return try PhoneNumber(parsing: text).storedSpellings
    } catch {
      throw ValidationError("'\(text.prefix(40))' is not a phone number: \(error)")
    }
  }
}
