import Foundation

/// Where PostgreSQL is: `postgres://user:password@host:port/database?sslmode=...`, as libpq reads it.
/// Its description masks the password, so a URL can go into logs and errors.
public struct PostgresURL: Sendable, CustomStringConvertible {
  /// The text libpq connects with. Never printed.
  let connectionString: String
  public let host: String
  public let port: Int
  public let database: String
  public let user: String?

  public init(_ text: String) throws(PostgresError) {
    guard let components = URLComponents(string: text),
      let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql"
    else {
      throw PostgresError(.invalidURL, "expected postgres://user:password@host:port/database")
    }
    guard let host = components.host, !host.isEmpty else {
      throw PostgresError(.invalidURL, "no host in the postgres:// URL")
    }
    let database = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
    guard !database.isEmpty else {
      throw PostgresError(.invalidURL, "no database in the postgres:// URL (…/DATABASE)")
    }
    let port = components.port ?? 5432
    guard (1...65535).contains(port) else { throw PostgresError(.invalidURL, "port \(port) is out of range") }
    self.connectionString = text
    self.host = host
    self.port = port
    self.database = database
    self.user = components.user?.removingPercentEncoding
  }

  public var description: String {
    "postgres://\(user.map { "\($0):***@" } ?? "")\(host):\(port)/\(database)"
  }
}
