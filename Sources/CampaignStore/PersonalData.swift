/// What of a recipient a campaign message holds, named once for the three ways it goes: the plan's
/// retention, a data subject's erasure (LGPD Art. 18) and a departed tenant's erasure.
enum PersonalData {
  /// The SET list that clears it from a `campaign_messages` row; the row keeps its state,
  /// times and counts.
  static let clearedFromMessage = "phone = NULL, chat_id = NULL, vars = '{}', rendered = NULL"
}
