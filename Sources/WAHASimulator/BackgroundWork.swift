import ServiceLifecycle

/// What WAHA does later on its own (a session reaching WORKING, acks, webhook deliveries), run as
/// child tasks of one service, so shutdown cancels whatever is still waiting and nothing outlives
/// the process's service group.
final class BackgroundWork: Service, Sendable {
  private typealias Work = @Sendable () async -> Void
  private let stream: AsyncStream<Work>
  private let continuation: AsyncStream<Work>.Continuation

  init() {
    (stream, continuation) = AsyncStream.makeStream()
  }

  /// Runs `work` after `delay`, unless the simulator shuts down first.
  func after(_ delay: Duration, _ work: @escaping @Sendable () async -> Void) {
    continuation.yield {
      if delay > .zero {
        do { try await Task.sleep(for: delay) } catch { return }
      }
      await work()
    }
  }

  func run() async throws {
    await withDiscardingTaskGroup { group in
      for await work in stream.cancelOnGracefulShutdown() {
        group.addTask { await work() }
      }
      group.cancelAll()
    }
  }
}
