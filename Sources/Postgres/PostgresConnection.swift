import CLibpq
import Foundation

/// One libpq connection. Every call blocks, so it lives on a `PostgresPool` thread and never on
/// Swift's cooperative pool; it is not `Sendable` and never leaves that thread.
public final class PostgresConnection {
  private let conn: OpaquePointer
  private let pooler: PostgresPooler

  private init(conn: OpaquePointer, pooler: PostgresPooler) {
    self.conn = conn
    self.pooler = pooler
  }

  deinit {
    PQfinish(conn)
  }

  /// Connects, with the session in UTC and ISO dates so text values parse one way.
  ///
  /// Directly, those and the statement timeout go in the startup packet's `options`. A transaction
  /// pooler refuses `options` (PgBouncer 1.18 does), so there TimeZone and DateStyle are SET once
  /// after connecting: the server reports both back, and the pooler remembers them for this client
  /// and sets them on every server connection it hands it. The statement timeout is not reported,
  /// so it could not follow; it is left to the pooler and the role (see `PostgresPooler`).
  static func connect(to url: PostgresURL, options: PostgresPool.Options) throws(PostgresError) -> PostgresConnection {
    var settings: [(String, String)] = [
      ("dbname", url.connectionString),
      ("connect_timeout", String(max(1, Int(options.connectTimeout.components.seconds)))),
      ("application_name", options.applicationName),
    ]
    if options.pooler == .none {
      let statementTimeout = options.statementTimeout.map { String($0.milliseconds) } ?? "0"
      settings.append(("options", "-c TimeZone=UTC -c DateStyle=ISO -c statement_timeout=\(statementTimeout)"))
    }
    let conn = withCStrings(settings.map(\.0)) { keywords in
      withCStrings(settings.map(\.1)) { values in
        PQconnectdbParams(keywords, values, 1)
      }
    }
    guard let conn else { throw PostgresError(.connectFailed, "libpq could not allocate a connection") }
    guard PQstatus(conn) == CONNECTION_OK else {
      let message = Self.message(conn)
      PQfinish(conn)
      throw PostgresError(.connectFailed, "\(url): \(message)")
    }
    // Notices ("relation already exists, skipping") are not errors; keep them off stderr.
    PQsetNoticeProcessor(conn, { _, _ in }, nil)
    let connection = PostgresConnection(conn: conn, pooler: options.pooler)
    if options.pooler == .transaction {
      try connection.execute(script: "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'")
    }
    return connection
  }

  var isHealthy: Bool { PQstatus(conn) == CONNECTION_OK }

  /// Runs one statement with `$1…$n` bound to `parameters` (text format, never interpolated).
  ///
  /// Statements with parameters are prepared once per connection and executed by name after: a
  /// campaign send runs the same dozen statements for every message, and planning each anew
  /// cost more CPU than running it (5 ms of planning for a 0.2 ms index lookup on a busy host).
  /// Behind a transaction pooler every statement goes unnamed instead, planned each time: a named
  /// one would be prepared on one server connection and run on another, or collide with a name
  /// another client left there.
  @discardableResult
  public func query(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws(PostgresError)
    -> PostgresRows
  {
    let texts = parameters.map(\.postgresText)
    if texts.isEmpty || pooler == .transaction {
      return try check(
        withOptionalCStrings(texts) { PQexecParams(conn, sql, Int32(texts.count), nil, $0, nil, nil, 0) })
    }
    let name = try prepare(sql, parameterCount: texts.count)
    do {
      return try check(withOptionalCStrings(texts) { PQexecPrepared(conn, name, Int32(texts.count), $0, nil, nil, 0) })
    } catch  where error.sqlState == "0A000" {
      // "cached plan must not change result type": a migration changed a table under a prepared
      // statement. Forget every prepared statement; outside a transaction run this one anew, inside
      // one the transaction is already aborted, so the error goes to the caller, who rolls back.
      forgetPrepared()
      guard !inFailedTransaction else { throw error }
      let fresh = try prepare(sql, parameterCount: texts.count)
      return try check(withOptionalCStrings(texts) { PQexecPrepared(conn, fresh, Int32(texts.count), $0, nil, nil, 0) })
    }
  }

  /// Statement names by SQL text, for this connection's session. Names are never reused (a
  /// counter, not the map's size), so a statement the server still holds can never collide with a
  /// new one (42P05), whatever happened to the map.
  private var prepared: [String: String] = [:]
  private var nextName = 0
  /// The server still holds statements this connection has forgotten: `DEALLOCATE ALL` runs before
  /// the next statement is prepared, once the connection is out of any aborted transaction.
  private var deallocatePending = false
  private static let maxPrepared = 512

  private var inFailedTransaction: Bool { PQtransactionStatus(conn) == PQTRANS_INERROR }

  private func prepare(_ sql: String, parameterCount: Int) throws(PostgresError) -> String {
    if let name = prepared[sql] { return name }
    if deallocatePending && !inFailedTransaction {
      _ = try check(PQexec(conn, "DEALLOCATE ALL"))
      deallocatePending = false
    }
    if prepared.count >= Self.maxPrepared { forgetPrepared() }
    let name = "whago_\(nextName)"
    nextName += 1
    _ = try check(PQprepare(conn, name, sql, Int32(parameterCount), nil))
    prepared[sql] = name
    return name
  }

  /// Forgets every prepared statement, and has the server drop them when it can: at once, or, in an
  /// aborted transaction (where even DEALLOCATE fails), before the next prepare after it.
  private func forgetPrepared() {
    guard !prepared.isEmpty else { return }
    prepared.removeAll()
    if inFailedTransaction {
      deallocatePending = true
    } else if let result = PQexec(conn, "DEALLOCATE ALL") {
      deallocatePending = PQresultStatus(result) != PGRES_COMMAND_OK
      PQclear(result)
    } else {
      deallocatePending = true
    }
  }

  private func check(_ result: OpaquePointer?) throws(PostgresError) -> PostgresRows {
    guard let result else {
      throw PostgresError(.connectionLost, Self.message(conn))
    }
    defer { PQclear(result) }
    switch PQresultStatus(result) {
    case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
      return Self.rows(result)
    default:
      if !isHealthy { throw PostgresError(.connectionLost, Self.message(conn)) }
      throw Self.serverError(result)
    }
  }

  /// Runs SQL text that holds several statements and no parameters (a migration file).
  public func execute(script sql: String) throws(PostgresError) {
    guard let result = PQexec(conn, sql) else { throw PostgresError(.connectionLost, Self.message(conn)) }
    defer { PQclear(result) }
    switch PQresultStatus(result) {
    case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY: return
    default:
      if !isHealthy { throw PostgresError(.connectionLost, Self.message(conn)) }
      throw Self.serverError(result)
    }
  }

  /// Runs `body` inside BEGIN … COMMIT; any error rolls back and is rethrown.
  public func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
    try query("BEGIN")
    do {
      let value = try body(self)
      try query("COMMIT")
      return value
    } catch {
      if isHealthy { _ = try? query("ROLLBACK") }
      throw error
    }
  }

  private static func rows(_ result: OpaquePointer) -> PostgresRows {
    let columnCount = Int(PQnfields(result))
    let rowCount = Int(PQntuples(result))
    var columns: [String] = []
    columns.reserveCapacity(columnCount)
    for c in 0..<columnCount {
      columns.append(String(cString: PQfname(result, Int32(c))))
    }
    var cells: [[String?]] = []
    cells.reserveCapacity(rowCount)
    for r in 0..<rowCount {
      var row: [String?] = []
      row.reserveCapacity(columnCount)
      for c in 0..<columnCount {
        if PQgetisnull(result, Int32(r), Int32(c)) == 1 {
          row.append(nil)
        } else {
          row.append(String(cString: PQgetvalue(result, Int32(r), Int32(c))))
        }
      }
      cells.append(row)
    }
    let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
    return PostgresRows(columns: columns, cells: cells, affected: affected)
  }

  private static func serverError(_ result: OpaquePointer) -> PostgresError {
    func field(_ code: Int32) -> String? {
      PQresultErrorField(result, code).map { String(cString: $0) }
    }
    let sqlState = field(Int32(UInt8(ascii: "C")))
    let primary = field(Int32(UInt8(ascii: "M"))) ?? String(cString: PQresultErrorMessage(result))
    let detail = field(Int32(UInt8(ascii: "D")))
    let constraint = field(Int32(UInt8(ascii: "n")))
    // An integrity violation's detail quotes the row or key ("Failing row contains (…+5511…)"):
    // phone numbers and message texts must not reach logs or job histories, the constraint suffices.
    let quotesData = sqlState?.hasPrefix("23") == true
    let message = detail.flatMap { quotesData ? nil : "\(primary) (\($0))" } ?? primary
    return PostgresError(.server, message, sqlState: sqlState, constraint: constraint)
  }

  private static func message(_ conn: OpaquePointer) -> String {
    String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines)
  }
}

/// Calls `body` with a NULL-terminated array of C strings that live for the call only.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
  let copies = strings.map { strdup($0) }
  defer { copies.forEach { free($0) } }
  let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } } + [nil]
  return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Like `withCStrings`, with nil passed as a NULL pointer (SQL NULL) and no terminator.
private func withOptionalCStrings<R>(
  _ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R
) -> R {
  let copies = strings.map { $0.map { strdup($0) } ?? nil }
  defer { copies.forEach { free($0) } }
  let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
  return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}

extension Duration {
  var milliseconds: Int64 {
    components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
  }
}
