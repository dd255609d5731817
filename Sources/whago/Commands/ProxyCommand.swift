import ArgumentParser
import Foundation
import Store

/// `whago proxy`: the pool of residential proxy accounts chips connect through.
struct ProxyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "proxy", abstract: "Manage the residential proxy accounts chips connect to WhatsApp through.",
    discussion: """
      Each chip gets a sticky session on one account (the one carrying the fewest chips), spelled in \
      the account's username by its template ({username}, {country}, {session}). Passwords are \
      sealed with WHAGO_SECRET_KEY (32 bytes, base64: `openssl rand -base64 32`), the same key on \
      every serve and worker; they are never printed.
      """,
    subcommands: [Add.self, List.self, Remove.self])

  struct Add: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Add a proxy account to the pool.",
      discussion:
        "Example: whago proxy add --provider dataimpulse --host gw.dataimpulse.com --port 824 --username U --password-file F --country br"
    )
    @OptionGroup var global: GlobalOptions
    @Option(help: "Provider, lowercase (dataimpulse has a known username format).") var provider: String
    @Option(help: "Proxy host, without scheme or port.") var host: String
    @Option(help: "Proxy port (DataImpulse SOCKS5: 824).") var port: Int
    @Option(help: "The account's login.") var username: String
    @Option(help: "A file holding the password ('-': standard input); it is never taken on the command line.")
    var passwordFile: String
    @Option(help: "Two-letter country the exit IPs are in (e.g. br).") var country: String?
    @Option(
      help:
        "Username with a sticky session, e.g. '{username}__cr.{country};sessid.{session}' (default: the provider's).")
    var usernameTemplate: String?
    @Option(help: "http or socks5 (default: the provider's for that port; DataImpulse 824 is SOCKS5).")
    var `protocol`: String?

    func run() async throws {
      let box = try secretBox()
      let raw: Data
      if passwordFile == "-" {
        raw = FileHandle.standardInput.readDataToEndOfFile()
      } else {
        guard let data = FileManager.default.contents(atPath: passwordFile) else {
          throw ValidationError("cannot read --password-file \(passwordFile)")
        }
        raw = data
      }
      let password = String(decoding: raw, as: UTF8.self).trimmingCharacters(in: .newlines)
      try await global.withStore { store in
        do {
          let proxy = try await store.addProxy(
            NewProxy(
              provider: provider, host: host, port: port, username: username, password: password,
              country: country?.lowercased(), usernameTemplate: usernameTemplate, protocol: `protocol`), box: box)
          print(try JSONOutput.encode(proxy))
        } catch let error as ProxyError {
          throw ValidationError("\(error)")
        }
      }
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the pool, with the chips each account carries.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "JSON instead of a table.") var json = false

    func run() async throws {
      try await global.withStore { store in
        let proxies = try await store.proxies()
        if json {
          print(try JSONOutput.encode(proxies))
          return
        }
        print("ID\tPROVIDER\tSERVER\tUSERNAME\tCOUNTRY\tCHIPS")
        for proxy in proxies {
          print(
            "\(proxy.id)\t\(proxy.provider)\t\(proxy.host):\(proxy.port)\t\(proxy.username)\t\(proxy.country ?? "-")\t\(proxy.chips)"
          )
        }
      }
    }
  }

  struct Remove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove an account no chip uses.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The proxy's id (whago proxy list).") var id: Int64

    func run() async throws {
      try await global.withStore { store in
        do {
          try await store.removeProxy(id: id)
          print("removed proxy \(id)")
        } catch let error as ProxyError {
          throw ValidationError("\(error)")
        }
      }
    }
  }
}

/// The box from WHAGO_SECRET_KEY, or an error that says how to set it.
func secretBox() throws -> SecretBox {
  do {
    guard let box = try SecretBox.fromEnvironment() else { throw SecretBoxError.missingKey }
    return box
  } catch {
    throw ValidationError("\(error)")
  }
}
