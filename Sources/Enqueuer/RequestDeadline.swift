import NIOCore
import NIOHTTPTypes

/// Time limits on reading one request, against slowloris clients. The idle timeout closes a
/// connection that sends nothing, but one that sends a byte every few seconds is never idle: it
/// holds its connection, and a slot under `maxConnections`, for as long as it likes. Here, from the
/// first byte of a request its head must be read within `head`, and from then its body within
/// `body`; past either the connection is closed. Between requests only the idle timeout applies.
struct RequestDeadline: Sendable {
  var head: TimeAmount
  var body: TimeAmount

  /// The handlers for one connection: the clock sees raw bytes (so it knows when a request began,
  /// before its head can be decoded) and the watcher sees decoded parts (so it knows when the head
  /// and the body are done). The watcher puts the clock at the front of the pipeline.
  func handlers() -> [any RemovableChannelHandler] {
    [RequestPartWatcher(clock: RequestClock(deadline: self))]
  }
}

/// Arms a timer at a request's first byte and closes the connection when it fires.
final class RequestClock: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer

  private enum Phase { case between, head, body }

  private let deadline: RequestDeadline
  private var phase = Phase.between
  private var timer: Scheduled<Void>?
  private var channel: (any Channel)?

  init(deadline: RequestDeadline) { self.deadline = deadline }

  func handlerAdded(context: ChannelHandlerContext) { channel = context.channel }

  func handlerRemoved(context: ChannelHandlerContext) { timer?.cancel() }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    if phase == .between {
      phase = .head
      arm(deadline.head)
    }
    context.fireChannelRead(data)
  }

  func channelInactive(context: ChannelHandlerContext) {
    timer?.cancel()
    context.fireChannelInactive()
  }

  /// The head is decoded: the body's own limit starts.
  func headRead() {
    guard phase != .body else { return }
    phase = .body
    arm(deadline.body)
  }

  /// The whole request is read: nothing is timed until the next one begins.
  func requestRead() {
    phase = .between
    timer?.cancel()
    timer = nil
  }

  private func arm(_ limit: TimeAmount) {
    timer?.cancel()
    guard let channel else { return }
    timer = channel.eventLoop.scheduleTask(in: limit) { channel.close(promise: nil) }
  }
}

/// Tells the clock when a request's head and end have been decoded.
final class RequestPartWatcher: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPRequestPart
  typealias InboundOut = HTTPRequestPart

  private let clock: RequestClock

  init(clock: RequestClock) { self.clock = clock }

  func handlerAdded(context: ChannelHandlerContext) {
    // Ahead of the HTTP decoder, where bytes arrive before any part can be decoded from them.
    try? context.pipeline.syncOperations.addHandler(clock, position: .first)
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head: clock.headRead()
    case .end: clock.requestRead()
    case .body: break
    }
    context.fireChannelRead(data)
  }
}
