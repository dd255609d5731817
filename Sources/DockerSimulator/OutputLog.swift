import Foundation
import Synchronization

/// A container's stdout and stderr, line by line, kept across restarts as Docker keeps them: the
/// last `capacity` lines, each with its stream and time, served by `logs` in Docker's frame format.
final class OutputLog: Sendable {
  struct Line: Sendable {
    var stream: UInt8
    var time: Date
    var bytes: [UInt8]
  }

  /// Docker cuts lines at 16 KiB; so do we, so one runaway line cannot fill memory.
  static let maxLine = 16 * 1024

  private struct State {
    var lines: [Line] = []
    var start = 0
    var partial: [UInt8: [UInt8]] = [:]
  }
  private let state = Mutex(State())
  let capacity: Int

  init(capacity: Int = 2000) {
    self.capacity = capacity
  }

  /// Output as the process wrote it (any chunking); complete lines are kept, a partial one waits.
  func append(_ bytes: some Collection<UInt8>, stream: UInt8) {
    let now = Date()
    state.withLock { state in
      var pending = state.partial[stream] ?? []
      for byte in bytes {
        if byte == UInt8(ascii: "\n") || pending.count >= Self.maxLine {
          Self.keep(Line(stream: stream, time: now, bytes: pending), in: &state, capacity: capacity)
          pending = byte == UInt8(ascii: "\n") ? [] : [byte]
        } else {
          pending.append(byte)
        }
      }
      state.partial[stream] = pending
    }
  }

  /// Keeps what was written without a final newline (the process has exited).
  func flush() {
    let now = Date()
    state.withLock { state in
      for (stream, pending) in state.partial.sorted(by: { $0.key < $1.key }) where !pending.isEmpty {
        Self.keep(Line(stream: stream, time: now, bytes: pending), in: &state, capacity: capacity)
      }
      state.partial = [:]
    }
  }

  /// Lines of the chosen streams, oldest first: the last `tail` of them, or all for nil.
  func lines(stdout: Bool, stderr: Bool, tail: Int?) -> [Line] {
    let all = state.withLock { state in Array(state.lines[state.start...]) }
    let chosen = all.filter { ($0.stream == 1 && stdout) || ($0.stream == 2 && stderr) }
    guard let tail else { return chosen }
    return Array(chosen.suffix(max(0, tail)))
  }

  /// Docker's multiplexed stream: per line an 8-byte header `[stream, 0, 0, 0, size big-endian]`
  /// and the line with its newline, prefixed with its RFC 3339 time when `timestamps`.
  static func frames(_ lines: [Line], timestamps: Bool) -> [UInt8] {
    var out: [UInt8] = []
    for line in lines {
      var payload: [UInt8] = []
      if timestamps { payload += Array((DockerText.timestamp(line.time) + " ").utf8) }
      payload += line.bytes
      payload.append(UInt8(ascii: "\n"))
      let size = UInt32(payload.count)
      out += [
        line.stream, 0, 0, 0, UInt8(size >> 24), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF),
      ]
      out += payload
    }
    return out
  }

  private static func keep(_ line: Line, in state: inout State, capacity: Int) {
    state.lines.append(line)
    // Drop the oldest in batches, so keeping a line stays cheap.
    if state.lines.count - state.start > capacity { state.start += 1 }
    if state.start > capacity {
      state.lines.removeFirst(state.start)
      state.start = 0
    }
  }
}
