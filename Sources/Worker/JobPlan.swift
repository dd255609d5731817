import JobCatalog
import JobContracts

/// One job type as a worker runs it: its policy (or why the catalog has none), its handler and its
/// metrics. Built once per type in each fetched batch rather than looked up per job, which cost
/// several dictionary lookups and a string key per job at tens of thousands of jobs a second.
struct JobPlan: Sendable {
  let policy: Result<JobCatalog.JobPolicy, CatalogError>
  let runner: HandlerRegistry.Runner?
  let set: WorkerMetrics.Set

  /// How long a run may take before the watchdog stops it; five minutes for a type the catalog
  /// does not know (its run fails at once anyway).
  var timeout: Duration {
    (try? policy.get())?.timeout ?? .seconds(300)
  }
}
