import Foundation
import Testing
import Wire

/// The one mapping between Swift names and wire names, held to what every response, payload and
/// `--json` output relies on.
@Suite struct WireJSONTests {
  struct Sample: Codable, Equatable {
    var chipIds: [Int64]
    var maxIntervalMs: Int
    var counts: [String: Int]
    var payload: JSONValue
  }

  @Test func swiftNamesAreSnakeCaseOnTheWireAndDictionaryKeysAreData() throws {
    let sample = Sample(
      chipIds: [1, 2], maxIntervalMs: 9000, counts: ["notDelivered": 1, "sent_ok": 2],
      payload: .object(["campaignId": .int(7), "nested": .object(["firstName": .string("Ana")])]))
    let text = try WireJSON.text(sample)
    #expect(
      text
        == #"{"chip_ids":[1,2],"counts":{"notDelivered":1,"sent_ok":2},"max_interval_ms":9000,"#
        + #""payload":{"campaignId":7,"nested":{"firstName":"Ana"}}}"#)
    #expect(try WireJSON.decoder.decode(Sample.self, from: Data(text.utf8)) == sample)
  }

  @Test func explicitNullKeepsTheKey() throws {
    struct Row: Encodable {
      @ExplicitNull var startedAt: String?
      @ExplicitNull var finishedAt: String?
      var note: String?
    }
    #expect(
      try WireJSON.text(Row(startedAt: "x", finishedAt: nil, note: nil)) == #"{"finished_at":null,"started_at":"x"}"#)
  }

  @Test func timesAreRFC3339UTCWithMillisecondsAndReadWithOrWithoutThem() throws {
    struct Stamp: Codable, Equatable { var at: Date }
    let at = Date(timeIntervalSince1970: 1_796_458_070.861)
    let text = try WireJSON.text(Stamp(at: at))
    #expect(text == #"{"at":"2026-12-05T08:07:50.861Z"}"#)
    let back = try WireJSON.decoder.decode(Stamp.self, from: Data(text.utf8))
    #expect(abs(back.at.timeIntervalSince1970 - at.timeIntervalSince1970) < 0.0005)
    let whole = try WireJSON.decoder.decode(Stamp.self, from: Data(#"{"at":"2026-12-05T08:07:50Z"}"#.utf8))
    #expect(whole.at.timeIntervalSince1970 == 1_796_458_070)
    #expect(throws: DecodingError.self) {
      try WireJSON.decoder.decode(Stamp.self, from: Data(#"{"at":"yesterday"}"#.utf8))
    }
  }

  @Test func wireNameSpellsAPropertyAsTheClientWroteIt() {
    #expect(WireJSON.wireName("periodStart") == "period_start")
    #expect(WireJSON.wireName("minSendGapMs") == "min_send_gap_ms")
    #expect(WireJSON.wireName("id") == "id")
    #expect(WireJSON.wireName("tenantID") == "tenant_id")
    #expect(WireJSON.wireName("gatewaySubscriptionID") == "gateway_subscription_id")
  }
}

/// Request bodies keep every number as written: an integer stays an integer, to its last digit.
@Suite struct JSONValueNumberTests {
  @Test func integersKeepEveryDigitAndIntegralDoublesAreIntegers() throws {
    for (text, expected) in [
      ("-9223372036854775807", JSONValue.int(-9_223_372_036_854_775_807)),
      ("-9223372036854775808", .int(Int64.min)),
      ("9223372036854775807", .int(Int64.max)),
      // One past Int64 is no integer we can hold: a double, never a wrapped negative.
      ("9223372036854775808", .double(0x1p63)),
      ("18446744073709551615", .double(0x1p64)),
      ("-9223372036854775809", .double(-0x1p63)),
      ("-9300000000000000000", .double(-9.3e18)),
      ("-9223372036854775809", .double(-0x1p63)),
      ("-9300000000000000000", .double(-9.3e18)),
      ("9007199254740993", .int(9_007_199_254_740_993)),
      ("54.0", .int(54)),
      ("1e3", .int(1000)),
      ("1e300", .double(1e300)),
      ("-2.5", .double(-2.5)),
    ] {
      let value = try JSONValue.parse(Array(text.utf8))
      #expect(value == expected, "\(text)")
    }
    #expect(
      try JSONValue.parse(Array(#"{"times":-9223372036854775807}"#.utf8)).text() == #"{"times":-9223372036854775807}"#)
  }
}
