import ArgumentParser
import Foundation
import JobQueue

/// The clock a command reads "now" on: Redis time, or the compressed schedule clock the workers of
/// a test or demo run on (so a plan change is quoted against the same days the renewals see).
struct ScheduleClockOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "Read now on a faster clock, as workers read it, for tests and demos: anchor=<Redis ms>,start=<ISO 8601>,speed=<x>. Env: WHAGO_SCHEDULE_CLOCK.",
      visibility: .hidden))
  var scheduleClock: String = ProcessInfo.processInfo.environment["WHAGO_SCHEDULE_CLOCK"] ?? ""

  func validate() throws {
    if !scheduleClock.isEmpty, ScheduleClock(scheduleClock) == nil {
      throw ValidationError("--schedule-clock must read anchor=<Redis ms>,start=<ISO 8601>,speed=<x>")
    }
  }

  var clock: ScheduleClock { ScheduleClock(scheduleClock) ?? .redis }
}
