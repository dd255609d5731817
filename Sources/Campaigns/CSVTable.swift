/// A CSV upload read as a header and data records, the way spreadsheets in Brazil write them.
///
/// Written here rather than taken from SwiftCSV (0.10), which on an unclosed quote silently
/// swallows every following row into one value, rejects a stray quote inside a value with no
/// position, and cannot tell a blank line from a row of empty values. Here:
/// - RFC 4180 quoting: separators, line breaks and doubled quotes (`""`) inside quoted values;
///   a quote inside an unquoted value is kept as text; an unclosed quote fails with its line;
/// - a UTF-8 byte order mark (Excel writes one) is dropped; lines end in LF, CRLF or CR;
/// - the separator is the most frequent of `,` `;` and tab on the header line, outside quotes,
///   since Excel in Brazil writes `;` (the comma is the decimal separator there);
/// - blank records (empty lines, or separators only) are kept as empty arrays, so row numbers stay
///   those of the spreadsheet.
struct CSVTable {
  let header: [String]
  let records: [[String]]

  /// Reads `text`; more than `maxRecords` non-blank data records throws `.tooManyRows` at once.
  init(parsing text: String, maxRecords: Int) throws(RecipientListError) {
    var scalars = Substring(text).unicodeScalars
    if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
    let separator = Self.separator(of: scalars)
    var parser = Parser(separator: separator)
    var header: [String]?
    var records: [[String]] = []
    var nonBlank = 0
    var index = scalars.startIndex
    while let record = try parser.nextRecord(in: scalars, from: &index) {
      if header == nil {
        guard record.count <= RecipientLimits.maxColumns else {
          throw .tooManyColumns(found: record.count, limit: RecipientLimits.maxColumns)
        }
        header = record
        continue
      }
      if record.allSatisfy({ $0.trimmed.isEmpty }) {
        records.append([])
        continue
      }
      nonBlank += 1
      guard nonBlank <= maxRecords else { throw .tooManyRows(limit: maxRecords) }
      records.append(record)
    }
    guard let header, !header.allSatisfy({ $0.trimmed.isEmpty }) else { throw .emptyFile }
    self.header = header.map(\.trimmed)
    self.records = records
  }

  private static func separator(of scalars: Substring.UnicodeScalarView) -> Unicode.Scalar {
    var counts: [Unicode.Scalar: Int] = [:]
    var quoted = false
    for scalar in scalars {
      if scalar == "\"" {
        quoted.toggle()
      } else if !quoted && (scalar == "\n" || scalar == "\r") {
        break
      } else if !quoted && (scalar == "," || scalar == ";" || scalar == "\t") {
        counts[scalar, default: 0] += 1
      }
    }
    let candidates: [Unicode.Scalar] = [",", ";", "\t"]
    return candidates.max { counts[$0, default: 0] < counts[$1, default: 0] } ?? ","
  }

  private struct Parser {
    let separator: Unicode.Scalar
    var line = 1

    init(separator: Unicode.Scalar) { self.separator = separator }

    /// The record starting at `index`, which moves past it; nil at the end of the text.
    mutating func nextRecord(
      in scalars: Substring.UnicodeScalarView, from index: inout Substring.UnicodeScalarView.Index
    ) throws(RecipientListError) -> [String]? {
      guard index < scalars.endIndex else { return nil }
      var fields: [String] = []
      var field = String.UnicodeScalarView()
      var quoted = false
      var quoteLine = line
      while index < scalars.endIndex {
        let scalar = scalars[index]
        scalars.formIndex(after: &index)
        let next = index < scalars.endIndex ? scalars[index] : nil
        if quoted {
          if scalar == "\"" {
            if next == "\"" {
              field.append("\"")
              scalars.formIndex(after: &index)
            } else {
              quoted = false
            }
          } else {
            if scalar == "\n" || (scalar == "\r" && next != "\n") { line += 1 }
            field.append(scalar)
          }
        } else if scalar == "\"" && String(field).trimmed.isEmpty {
          quoted = true
          quoteLine = line
          field = String.UnicodeScalarView()
        } else if scalar == separator {
          fields.append(String(field))
          field = String.UnicodeScalarView()
        } else if scalar == "\n" || scalar == "\r" {
          if scalar == "\r" && next == "\n" { scalars.formIndex(after: &index) }
          line += 1
          fields.append(String(field))
          return fields
        } else {
          field.append(scalar)
        }
      }
      if quoted { throw .unclosedQuote(line: quoteLine) }
      fields.append(String(field))
      return fields
    }
  }
}
