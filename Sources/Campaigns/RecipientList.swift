/// The recipients of one upload, checked: every row ends up either accepted or rejected with its
/// reason, never silently dropped (issue 5: "invalid or duplicate rows are reported").
///
/// Checks, in order, the first failure being the row's reason: the phone number is valid; it is
/// not a duplicate of an earlier accepted row (compared with the ninth digit, so `(11) 9999-8888`
/// and `(11) 99999-8888` are one phone) nor of the campaign's earlier uploads; the template's
/// variables all have values; the plan's contacts per list leaves room.
public struct RecipientList: Sendable {
  public private(set) var accepted: [Recipient] = []
  public private(set) var rejected: [RejectedRecipient] = []

  /// Recipients sent as JSON rows (`[{phone, vars}]`); row numbers are 1-based array positions.
  ///
  /// - Parameters:
  ///   - template: the campaign's template, whose variables every row must give; nil checks none.
  ///   - alreadyListed: the campaign's recipients from earlier uploads; they count toward the plan's
  ///     contacts per list, and a row repeating one is rejected.
  public init(
    rows: [RecipientRow], template: MessageTemplate?, limits: RecipientLimits = RecipientLimits(),
    alreadyListed: Set<PhoneNumber> = []
  ) throws(RecipientListError) {
    guard rows.count <= limits.maxRows else { throw .tooManyRows(limit: limits.maxRows) }
    var screening = Screening(template: template, limits: limits, alreadyListed: alreadyListed)
    for (offset, row) in rows.enumerated() {
      screening.consider(row: offset + 1, phone: row.phone, variables: row.variables)
    }
    accepted = screening.accepted
    rejected = screening.rejected
  }

  /// Recipients uploaded as CSV (`text/csv`): a `phone` column (any case) and one column per
  /// variable. Row numbers count data rows from 1, blank lines included, so row N is line N + 1
  /// of the spreadsheet; blank lines themselves are skipped, having nothing to send.
  public init(
    csv: String, template: MessageTemplate?, limits: RecipientLimits = RecipientLimits(),
    alreadyListed: Set<PhoneNumber> = []
  ) throws(RecipientListError) {
    let table = try CSVTable(parsing: csv, maxRecords: limits.maxRows)
    let columns = try Columns(header: table.header)
    var screening = Screening(template: template, limits: limits, alreadyListed: alreadyListed)
    for (offset, record) in table.records.enumerated() where !record.isEmpty {
      let row = offset + 1
      let phone = columns.phone < record.count ? record[columns.phone] : ""
      let lastValue = record.lastIndex { !$0.trimmed.isEmpty } ?? 0
      guard lastValue < table.header.count else {
        let rejection = RecipientRejection.tooManyFields(expected: table.header.count, found: lastValue + 1)
        screening.reject(row: row, phone: phone.trimmed, reason: rejection)
        continue
      }
      var variables: [String: String] = [:]
      for (index, name) in columns.variables where index < record.count {
        variables[name] = record[index]
      }
      screening.consider(row: row, phone: phone, variables: variables)
    }
    accepted = screening.accepted
    rejected = screening.rejected
  }
}

extension RecipientList {
  /// Where the phone and each variable sit in a CSV header.
  private struct Columns {
    let phone: Int
    let variables: [(index: Int, name: String)]

    init(header: [String]) throws(RecipientListError) {
      var phone: Int?
      var variables: [(index: Int, name: String)] = []
      var seen = Set<String>()
      for (index, title) in header.enumerated() where !title.isEmpty {
        let name = title.lowercased()
        guard seen.insert(name).inserted else { throw .duplicateColumn(title) }
        if name == "phone" {
          phone = index
        } else {
          variables.append((index, name))
        }
      }
      guard let phone else { throw .missingPhoneColumn(found: header.filter { !$0.isEmpty }) }
      self.phone = phone
      self.variables = variables
    }
  }

  /// The checks every row goes through, whatever format it came in.
  private struct Screening {
    let template: MessageTemplate?
    let limits: RecipientLimits
    let alreadyListed: Set<PhoneNumber>
    var accepted: [Recipient] = []
    var rejected: [RejectedRecipient] = []
    /// The accepted row of each phone, by its ninth-digit form.
    var firstRow: [PhoneNumber: Int] = [:]

    init(template: MessageTemplate?, limits: RecipientLimits, alreadyListed: Set<PhoneNumber>) {
      self.template = template
      self.limits = limits
      self.alreadyListed = Set(alreadyListed.map(\.withNinthDigit))
    }

    mutating func consider(row: Int, phone given: String, variables values: [String: String]) {
      let text = given.trimmed
      let phone: PhoneNumber
      do {
        phone = try PhoneNumber(parsing: text)
      } catch {
        return reject(row: row, phone: text, reason: .invalidPhone(error))
      }
      let line = phone.withNinthDigit
      if let earlier = firstRow[line] { return reject(row: row, phone: text, reason: .duplicate(ofRow: earlier)) }
      if alreadyListed.contains(line) { return reject(row: row, phone: text, reason: .alreadyListed) }
      if let (name, _) = values.first(where: { $0.key.contains("\u{0}") || $0.value.contains("\u{0}") }) {
        return reject(row: row, phone: text, reason: .nulCharacter(variable: name))
      }
      if let (name, value) = values.first(where: { $0.value.unicodeScalars.count > RecipientLimits.maxValueLength }) {
        return reject(
          row: row, phone: text,
          reason: .valueTooLong(
            variable: name, length: value.unicodeScalars.count, limit: RecipientLimits.maxValueLength))
      }
      var variables: [String: String] = [:]
      for (name, value) in values where !value.trimmed.isEmpty {
        variables[name.trimmed.lowercased()] = value.trimmed
      }
      if let missing = template?.check(variables: variables), !missing.isEmpty {
        return reject(row: row, phone: text, reason: .missingVariables(missing))
      }
      if let limit = limits.contactsPerList, alreadyListed.count + accepted.count >= limit {
        return reject(row: row, phone: text, reason: .overContactsPerList(limit: limit))
      }
      firstRow[line] = row
      accepted.append(Recipient(row: row, phone: phone, variables: variables))
    }

    mutating func reject(row: Int, phone: String, reason: RecipientRejection) {
      rejected.append(RejectedRecipient(row: row, phone: phone, reason: reason))
    }
  }
}
