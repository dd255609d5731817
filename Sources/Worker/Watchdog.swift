/// Cancels runs that outlive their job type's timeout. One loop for the whole worker instead of a
/// timer task per job: at tens of thousands of jobs a second, a timer each costs more than the jobs.
struct Watchdog: Sendable {
  let held: HeldJobs
  let interval: Duration

  func run(until stopped: @Sendable () -> Bool) async {
    while !stopped() && !Task.isCancelled {
      try? await Task.sleep(for: interval)
      _ = held.cancelOverdue()
    }
  }
}
