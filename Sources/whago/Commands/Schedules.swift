import ArgumentParser
import Foundation
import JobCatalog
import JobQueue
import RedisClient

struct Schedules: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Each cron schedule of the catalog with its last and next slot and what it did.")

  @OptionGroup var global: GlobalOptions
  @Flag(help: "Print JSON.") var json = false

  func run() async throws {
    let catalog = try global.catalog()
    let redis = try global.client()
    defer { redis.close() }
    let broker = Broker(redis: redis)
    var states: [CronState] = []
    for schedule in catalog.schedules {
      states.append(try await broker.cronState(name: schedule.name, queue: schedule.queue))
    }
    if json {
      print(try JSONOutput.encode(states))
      return
    }
    if catalog.schedules.isEmpty {
      print("no schedules in \(catalog.source)")
      return
    }
    let rows = zip(catalog.schedules, states).map { schedule, state in
      [
        schedule.name, schedule.cron.description, schedule.timeZone.identifier, schedule.jobType,
        state.lastSlot.map(Timestamp.text) ?? "-", state.nextSlot.map(Timestamp.text) ?? "-", "\(state.fired)",
        schedule.missed.rawValue,
      ]
    }
    print(
      Table.render(header: ["SCHEDULE", "CRON", "TIMEZONE", "JOB", "LAST", "NEXT", "FIRED", "MISSED"], rows: rows))
  }
}
