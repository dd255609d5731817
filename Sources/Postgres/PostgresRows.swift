import Foundation
import Wire

/// A query's answer, copied out of libpq so nothing points into C memory after the call.
public struct PostgresRows: Sendable {
  public let columns: [String]
  let cells: [[String?]]
  /// Rows an INSERT, UPDATE or DELETE touched.
  public let affected: Int

  init(columns: [String], cells: [[String?]], affected: Int) {
    self.columns = columns
    self.cells = cells
    self.affected = affected
  }

  public var count: Int { cells.count }
  public var isEmpty: Bool { cells.isEmpty }
  public var first: PostgresRow? { cells.isEmpty ? nil : self[0] }
  public subscript(index: Int) -> PostgresRow { PostgresRow(columns: columns, values: cells[index]) }
  public var rows: [PostgresRow] { cells.map { PostgresRow(columns: columns, values: $0) } }

  /// Every row as `T`, its properties matched to columns by name (`tenantID` reads `tenant_id`, through `WireJSON.wireName`).
  public func decode<T: Decodable>(_ type: T.Type) throws -> [T] {
    try rows.map { try $0.decode(T.self) }
  }
}

/// One row, read by column name.
public struct PostgresRow: Sendable {
  public let columns: [String]
  public let values: [String?]

  public func text(_ column: String) -> String? {
    guard let index = columns.firstIndex(of: column) else { return nil }
    return values[index]
  }

  /// The column's value; throws when the column is missing, NULL or of another type.
  public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
    guard let index = columns.firstIndex(of: column) else {
      throw PostgresError(.decode, "no column '\(column)' in the result")
    }
    guard let text = values[index] else { throw PostgresError(.decode, "column '\(column)' is NULL") }
    do {
      return try T(postgresText: text)
    } catch {
      throw PostgresError(.decode, "column '\(column)': \(error.message)")
    }
  }

  /// The column's value, or nil for NULL.
  public func decodeIfPresent<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T? {
    guard let index = columns.firstIndex(of: column) else {
      throw PostgresError(.decode, "no column '\(column)' in the result")
    }
    guard values[index] != nil else { return nil }
    return try decode(column, as: T.self)
  }

  public func decode<T: Decodable>(_ type: T.Type) throws -> T {
    try T(from: RowDecoder(row: self))
  }
}

/// Decodes a row into a `Decodable` type: each property from the column of its snake_case name.
private struct RowDecoder: Decoder {
  let row: PostgresRow
  var codingPath: [any CodingKey] { [] }
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedDecodingContainer<Key> {
    KeyedDecodingContainer(Container<Key>(row: row))
  }

  func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
    throw PostgresError(.decode, "a row decodes into a struct, not an array")
  }

  func singleValueContainer() throws -> any SingleValueDecodingContainer {
    throw PostgresError(.decode, "a row decodes into a struct, not a single value")
  }

  static func column(for key: some CodingKey) -> String { WireJSON.wireName(key.stringValue) }

  struct Container<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let row: PostgresRow
    var codingPath: [any CodingKey] { [] }
    var allKeys: [Key] { row.columns.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { row.columns.contains(RowDecoder.column(for: key)) }

    func decodeNil(forKey key: Key) throws -> Bool {
      row.text(RowDecoder.column(for: key)) == nil
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
      if let wrapper = T.self as? any ExplicitNullDecodable.Type {
        func value<Inner: Decodable>(_ inner: Inner.Type) throws -> Inner? {
          try decodeNil(forKey: key) ? nil : try decode(Inner.self, forKey: key)
        }
        return try wrapper.decoding { try value($0) } as! T
      }
      let column = RowDecoder.column(for: key)
      if let decodable = T.self as? any PostgresDecodable.Type {
        return try row.decode(column, as: decodable) as! T
      }
      // Anything else is JSON (json/jsonb columns) or a string-backed enum (text columns).
      let text: String = try row.decode(column)
      let decoder = JSONDecoder()
      if let value = try? decoder.decode(T.self, from: Data(text.utf8)) { return value }
      if let quoted = try? JSONEncoder().encode(text), let value = try? decoder.decode(T.self, from: quoted) {
        return value
      }
      throw PostgresError(.decode, "column '\(column)' does not hold a \(T.self)")
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
      -> KeyedDecodingContainer<NestedKey>
    {
      throw PostgresError(.decode, "nested containers are not supported")
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
      throw PostgresError(.decode, "nested containers are not supported")
    }

    func superDecoder() throws -> any Decoder { RowDecoder(row: row) }
    func superDecoder(forKey key: Key) throws -> any Decoder { RowDecoder(row: row) }
  }
}
