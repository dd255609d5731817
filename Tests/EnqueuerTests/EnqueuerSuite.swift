import Testing

/// Every enqueuer test starts a real `whago serve`; they run one at a time so they do not crowd
/// the two cores the worker process tests also need.
@Suite(.serialized) enum EnqueuerSuite {}
