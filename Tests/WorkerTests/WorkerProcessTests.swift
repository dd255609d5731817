import Testing

/// Every suite in this target starts real worker processes and watches them by Redis time. They
/// run one at a time, so that one suite's 50,000 jobs cannot starve another's schedulers on a
/// 2-core machine and turn a liveness bound into a flaky failure.
@Suite(.serialized) enum WorkerProcessTests {}
