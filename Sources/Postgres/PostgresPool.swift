import Foundation
import Logging
import NativeThreads
import Synchronization

/// A fixed set of libpq connections, each owned by its own thread. Callers await; the blocking
/// libpq calls run on those threads, never on Swift's cooperative pool. A connection that breaks
/// is dropped and the next request on that thread connects again.
public final class PostgresPool: Sendable {
  public struct Options: Sendable {
    /// Connections (and threads). Each request holds one for its whole body.
    public var size = 4
    public var connectTimeout: Duration = .seconds(10)
    /// The server cancels a statement that runs longer. Nil: no limit. Not applied behind a
    /// transaction pooler (`pooler == .transaction`), where no session setting outlives a
    /// transaction: there the pooler's `query_timeout` or the role's `statement_timeout` applies.
    public var statementTimeout: Duration? = .seconds(30)
    /// What sits between us and the server; `.transaction` keeps no state in the session.
    public var pooler: PostgresPooler = .none
    public var applicationName = "whago"
    /// Requests that may wait for a connection at once; past it a request fails with `.busy`
    /// at once. Nil: no bound (workers, whose concurrency bounds them already).
    public var maxWaiting: Int?
    /// A request still waiting for a connection after this long fails with `.busy` when its
    /// turn comes, instead of running for a caller that has likely given up. Nil: no deadline.
    public var waitDeadline: Duration?
    public init() {}
  }

  private typealias Run = @Sendable (Result<PostgresConnection, PostgresError>) -> Void
  private struct Job {
    let run: Run
    let queuedAt: ContinuousClock.Instant
  }

  private struct State {
    var jobs: [Job] = []
    var head = 0
    var closed = false
    /// Threads still running, and who waits for the last one to finish its connection.
    var running = 0
    var waiters: [CheckedContinuation<Void, Never>] = []
  }

  public let url: PostgresURL
  private let options: Options
  /// What sits between the pool and the server (see `PostgresPooler`).
  public var pooler: PostgresPooler { options.pooler }
  private let state = Mutex(State())
  private let conflicts = Mutex(0)
  private let queued = DispatchSemaphore(value: 0)
  private let logger: Logger

  public init(url: PostgresURL, options: Options = Options(), logger: Logger = Logger(label: "whago.postgres")) {
    self.url = url
    self.options = options
    self.logger = logger
    state.withLock { $0.running = max(1, options.size) }
    for _ in 0..<max(1, options.size) {
      // Joinable threads, so `shutdown` can wait for each to be gone entirely (see there).
      guard let thread = JoinableThread(name: "whago.postgres", { [self] in self.serve() }) else {
        logger.critical("cannot start a PostgreSQL thread")
        state.withLock { $0.running -= 1 }
        continue
      }
      threads.withLock { $0.append(thread) }
    }
  }

  private let threads = Mutex<[JoinableThread]>([])

  /// Lets the threads finish what is queued and stop; later calls fail with `.closed`.
  public func close() {
    let size = state.withLock { state -> Int in
      if state.closed { return 0 }
      state.closed = true
      return max(1, options.size)
    }
    for _ in 0..<size { queued.signal() }
  }

  /// Closes the pool and returns once every thread has finished its connection. A process must
  /// call this before it exits: libpq tearing down a connection while the process's exit handlers
  /// free OpenSSL's state crashed a one-shot command ("double free or corruption").
  public func shutdown() async {
    close()
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let done = state.withLock { state -> Bool in
        if state.running == 0 { return true }
        state.waiters.append(continuation)
        return false
      }
      if done { continuation.resume() }
    }
    // Finishing the connection is not the end of the thread: its thread-local OpenSSL state is
    // freed as it exits, and racing the process's exit handlers that still crashed one command in
    // a few hundred under load. Join every thread, off the cooperative pool (joining blocks).
    let joining = threads.withLock { threads -> [JoinableThread] in
      defer { threads = [] }
      return threads
    }
    await JoinableThread.join(joining)
  }

  /// Requests waiting for a connection now.
  public var waiting: Int {
    state.withLock { $0.jobs.count - $0.head }
  }

  /// Runs `body` with a connection of its own, on a pool thread.
  public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T)
    async throws -> T
  {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
      let job: Run = { connection in
        switch connection {
        case .failure(let error): continuation.resume(throwing: error)
        case .success(let connection):
          do {
            continuation.resume(returning: try body(connection))
          } catch {
            continuation.resume(throwing: error)
          }
        }
      }
      let refusal = state.withLock { state -> PostgresError? in
        if state.closed { return PostgresError(.closed, "") }
        let waiting = state.jobs.count - state.head
        if let limit = options.maxWaiting, waiting >= limit {
          return PostgresError(.busy, "\(waiting) requests are already waiting for a connection")
        }
        state.jobs.append(Job(run: job, queuedAt: .now))
        return nil
      }
      if let refusal {
        continuation.resume(throwing: refusal)
      } else {
        queued.signal()
      }
    }
  }

  /// Runs one statement with `$n` parameters.
  @discardableResult
  public func query(_ sql: String, _ parameters: [any PostgresEncodable] = []) async throws -> PostgresRows {
    try await withConnection { connection in try connection.query(sql, parameters) }
  }

  /// Runs `body` inside one transaction on one connection; an error rolls everything back.
  ///
  /// A transaction the server aborted to break a deadlock (40P01) or for a serialization conflict
  /// (40001) runs again on the same connection after a short random pause, up to
  /// `conflictRetries` times: it left nothing behind and the other side has gone on, so the
  /// caller (a campaign's claim, a webhook) need not wait for the queue's backoff. `body` is
  /// `@Sendable`, so it holds no state outside the transaction that a second run could double.
  public func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T)
    async throws -> T
  {
    try await withConnection { [self] connection in
      var retries = 0
      while true {
        do {
          return try connection.transaction(body)
        } catch let error as PostgresError where error.isConflict && retries < Self.conflictRetries {
          retries += 1
          conflicts.withLock { $0 += 1 }
          logger.notice(
            "transaction aborted by a conflict; running it again",
            metadata: ["sqlstate": "\(error.sqlState ?? "")", "retry": "\(retries)"])
          // This pool thread's own pause (never the cooperative pool's): 1 to 5 ms times the retry.
          usleep(UInt32.random(in: 1_000...(5_000 * UInt32(retries))))
        }
      }
    }
  }

  /// How many times `transaction` runs a body again after a deadlock or serialization failure.
  public static let conflictRetries = 3

  /// Transactions this pool ran again after a deadlock or serialization failure, since it opened.
  public var conflictsRetried: Int { conflicts.withLock { $0 } }

  // MARK: Pool threads

  private func next() -> Job? {
    state.withLock { state -> Job? in
      guard state.head < state.jobs.count else { return nil }
      let job = state.jobs[state.head]
      state.head += 1
      if state.head > 1024, state.head * 2 > state.jobs.count {
        state.jobs.removeFirst(state.head)
        state.head = 0
      }
      return job
    }
  }

  private func serve() {
    var connection: PostgresConnection?
    var failures = 0
    defer {
      connection = nil
      let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
        state.running -= 1
        guard state.running == 0 else { return [] }
        defer { state.waiters = [] }
        return state.waiters
      }
      waiters.forEach { $0.resume() }
    }
    while true {
      queued.wait()
      guard let job = next() else { return }  // woken by close() with nothing left
      if let deadline = options.waitDeadline, job.queuedAt.duration(to: .now) > deadline {
        job.run(.failure(PostgresError(.busy, "waited more than \(deadline) for a connection")))
        continue
      }
      if connection == nil || connection?.isHealthy == false {
        connection = nil
        do {
          connection = try PostgresConnection.connect(to: url, options: options)
          if failures > 0 { logger.info("reconnected to PostgreSQL", metadata: ["postgres": "\(url)"]) }
          failures = 0
        } catch {
          failures += 1
          if failures == 1 || failures % 20 == 0 {
            logger.warning("cannot reach PostgreSQL", metadata: ["postgres": "\(url)", "error": "\(error)"])
          }
          job.run(.failure(error))
          continue
        }
      }
      job.run(.success(connection!))
      if connection?.isHealthy == false { connection = nil }
    }
  }
}
