import CampaignStore
import Campaigns
import Enqueuer
import Foundation
import HTTPTypes
import Store
import Testing
import Wire

/// `POST /v1/campaigns` read without a server: what a draft becomes, and every mistake reported at
/// once with its JSON Pointer.
@Suite struct CampaignDraftTests {
  let starter = Plan(name: "starter", contactsPerList: 3, minSendGapMs: 2_000)
  let business = Plan(name: "business", minSendGapMs: 2_000, scheduling: true)

  func problem(_ body: JSONValue, plan: Plan) -> Problem? {
    do {
      _ = try CampaignDraft.parse(body, plan: plan)
      return nil
    } catch {
      return error
    }
  }

  @Test func aDraftWithoutAPaceIsPacedLikeAPersonAndKeepsEveryRowItCannotTake() throws {
    let draft = try CampaignDraft.parse(
      [
        "name": "Black Friday", "template": "Oi {{nome}}!\nAté amanhã.", "chip_ids": [7, 9],
        "recipients": [
          ["phone": "+55 11 99999-0001", "vars": ["nome": "Ana"]],
          ["phone": "11 99999-0001", "vars": ["nome": "Ana de novo"]],
          ["phone": "123", "vars": ["nome": "Bia"]],
          ["phone": "+55 11 99999-0002", "vars": [:]],
          ["phone": "+55 11 99999-0003", "vars": ["nome": "Caio"]],
        ],
      ], plan: starter)
    #expect(draft.name == "Black Friday")
    #expect(draft.template.source == "Oi {{nome}}!\nAté amanhã.")
    #expect(draft.chipIDs == [7, 9])
    #expect(draft.minIntervalMs == 30_000 && draft.maxIntervalMs == 60_000)
    #expect(draft.rest == .human)
    #expect(draft.startAt == nil && draft.mediaURL == nil)
    #expect(draft.recipients.map(\.phone) == ["+5511999990001", "+5511999990003"])
    // The repeat, the bad number and the row without `nome`, each with its row number.
    #expect(draft.rejected.map(\.row) == [2, 3, 4])
  }

  @Test func aPaceGivenByHandRestsOnlyWhenItSaysSo() throws {
    let base: [String: JSONValue] = ["name": "n", "template": "t", "chip_ids": [1]]
    func draft(_ pace: JSONValue) throws -> CampaignDraft {
      var body = base
      body["pace"] = pace
      return try CampaignDraft.parse(.object(body), plan: business)
    }
    let plain = try draft(["min_interval_ms": 2_000, "max_interval_ms": 2_500])
    #expect(plain.minIntervalMs == 2_000 && plain.maxIntervalMs == 2_500 && plain.rest == nil)
    let never = try draft(["min_interval_ms": 2_000, "max_interval_ms": 2_000, "rest_every": nil])
    #expect(never.rest == nil)
    let resting = try draft([
      "min_interval_ms": 3_000, "max_interval_ms": 4_000, "rest_every": 10, "rest_min_ms": 0, "rest_max_ms": 60_000,
    ])
    #expect(resting.rest == CampaignRest(every: 10, minMs: 0, maxMs: 60_000))
    // A plan whose gap is longer than a person's default raises the default with it.
    let slow = try CampaignDraft.parse(base.jsonValue, plan: Plan(name: "slow", minSendGapMs: 45_000))
    #expect(slow.minIntervalMs == 45_000 && slow.maxIntervalMs == 60_000)
  }

  @Test func everyMistakeComesBackAtOnceWithItsPointer() throws {
    let body: JSONValue = [
      "name": "",
      "template": "Oi {{nome",
      "media_url": "ftp://files.example/a.png",
      "chip_ids": [0, "7", 3],
      "pace": [
        "min_interval_ms": 1.5, "max_interval_ms": 90_000_000, "rest_every": 3, "sleep": true,
      ],
      "start_at": "tomorrow",
      "colour": "blue",
    ]
    let found = try #require(problem(body, plan: business))
    #expect(found.status == .unprocessableContent)
    #expect(
      Set(found.errors.map(\.pointer)) == [
        "/name", "/template", "/media_url", "/chip_ids/0", "/chip_ids/1", "/pace/min_interval_ms",
        "/pace/max_interval_ms", "/pace/rest_every", "/pace/sleep", "/start_at", "/colour",
      ], "\(found.errors)")
    #expect(found.errors.first { $0.pointer == "/pace/min_interval_ms" }?.detail.contains("fraction") == true)
    #expect(found.errors.first { $0.pointer == "/colour" }?.detail.contains("chip_ids") == true)
  }

  @Test func thePlanDecidesTheFastestPaceAndWhetherAStartCanBeScheduled() throws {
    let start = "2030-01-01T09:00:00-03:00"
    let body: JSONValue = [
      "name": "n", "template": "t", "chip_ids": [1], "start_at": .string(start),
      "pace": ["min_interval_ms": 1_000, "max_interval_ms": 500],
    ]
    let starterProblem = try #require(problem(body, plan: starter))
    #expect(
      Set(starterProblem.errors.map(\.pointer)) == ["/pace/min_interval_ms", "/pace/max_interval_ms", "/start_at"])
    #expect(starterProblem.errors.contains { $0.detail.contains("2000 ms") })
    #expect(starterProblem.errors.contains { $0.detail.contains("scheduled campaigns") })

    let scheduled = try CampaignDraft.parse(
      ["name": "n", "template": "t", "chip_ids": [1], "start_at": .string(start)], plan: business)
    #expect(scheduled.startAt == ISO8601DateFormatter().date(from: "2030-01-01T12:00:00Z"))
  }

  @Test func lengthsAreCountedInUnicodeScalarsAsPostgreSQLCountsThem() throws {
    // "é" written as e + combining accent: one Character, two scalars. 100 of them are 200 scalars.
    let accent = String(repeating: "e\u{301}", count: 100)
    let fits = try CampaignDraft.parse(["name": .string(accent), "template": "t", "chip_ids": [1]], plan: business)
    #expect(fits.name.count == 100)
    let over = try #require(
      problem(["name": .string(accent + "a"), "template": "t", "chip_ids": [1]], plan: business))
    #expect(over.errors.map(\.pointer) == ["/name"])
    #expect(over.errors[0].detail.contains("has 201"))
    // A template is text: line breaks and tabs are allowed; a name is not.
    let control = try #require(problem(["name": "a\tb", "template": "a\tb\n", "chip_ids": [1]], plan: business))
    #expect(control.errors.map(\.pointer) == ["/name"])
  }

  @Test func aBodyThatIsNotAnObjectOrARecipientThatIsNotARowIsNamed() throws {
    let array = try #require(problem([1, 2], plan: business))
    #expect(array.errors.map(\.pointer) == [""])
    #expect(array.errors[0].detail.contains("a campaign is a JSON object, got an array"))
    let row = try #require(
      problem(
        ["name": "n", "template": "t", "chip_ids": [1], "recipients": [["phone": "+5511999990001"], 5]], plan: business)
    )
    #expect(row.errors.map(\.pointer) == ["/recipients/1"])
  }
}

extension Dictionary where Key == String, Value == JSONValue {
  fileprivate var jsonValue: JSONValue { .object(self) }
}
