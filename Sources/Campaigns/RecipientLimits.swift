/// The bounds one upload is checked against.
public struct RecipientLimits: Sendable, Hashable {
  /// Rows one upload may hold (blank lines aside); more fails the whole upload, before any row is
  /// read past the limit, so one request cannot hold a server's memory.
  public var maxRows: Int
  /// The plan's `contacts_per_list`, counting the campaign's recipients from earlier uploads;
  /// nil when the plan has no limit. Rows past it are rejected one by one, so the tenant sees
  /// exactly which did not fit.
  public var contactsPerList: Int?
  /// The longest value of one variable, in characters (a WhatsApp text is at most 4,096).
  public static let maxValueLength = 1024
  /// The most columns a CSV header may have: the phone and variables, with room to spare.
  public static let maxColumns = 200

  public init(maxRows: Int = 100_000, contactsPerList: Int? = nil) {
    self.maxRows = maxRows
    self.contactsPerList = contactsPerList
  }
}
