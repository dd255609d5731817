/// Errors of the queue engine, each saying what the operator can do next.
public enum QueueError: Error, Sendable, CustomStringConvertible, Equatable {
  case invalidQueueName(String)
  case invalidJob(String)
  case jobNotFound(String)
  case notCancellable(id: String, state: JobState)
  case unexpectedReply(operation: String, detail: String)
  case scheduledCapReached(queue: String, held: Int, cap: Int)

  public var description: String {
    switch self {
    case .invalidQueueName(let name):
      "invalid queue name '\(name)': use 1-64 letters, digits, '.', '_' or '-'"
    case .invalidJob(let reason):
      "invalid job: \(reason)"
    case .jobNotFound(let id):
      "no job \(id) in any queue (it may be past its retention); check the id with `whago queues` and `whago dead list`"
    case .notCancellable(let id, let state):
      "job \(id) is \(state.rawValue) and cannot be cancelled; only scheduled or ready jobs can"
    case .scheduledCapReached(let queue, let held, let cap):
      "the tenant has \(held) jobs scheduled ahead on queue '\(queue)', and its plan allows \(cap); "
        + "wait for some to come due, cancel some, or move the tenant to a plan with a higher scheduled_jobs"
    case .unexpectedReply(let operation, let detail):
      "\(operation): unexpected reply from Redis (\(detail)); is another program writing whago:* keys?"
    }
  }

  static func checkQueueName(_ name: String) throws(QueueError) {
    let ok =
      !name.isEmpty && name.utf8.count <= 64
      && name.utf8.allSatisfy { c in
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 46 || c == 95 || c == 45
      }
    if !ok { throw .invalidQueueName(name) }
  }
}

extension JobSpec {
  /// Throws unless the queue name is usable as a Redis hash tag.
  public func validateQueueName() throws(QueueError) {
    try QueueError.checkQueueName(queue)
  }
}
