/// One line of a container's output (`GET /containers/{id}/logs`), with the stream it was written
/// to, so the admin can show stderr apart. It exists because Docker does not send text: without a
/// TTY it multiplexes both streams into frames, and reading the bytes as text shows binary headers.
public struct LogLine: Sendable, Equatable {
  /// The stream byte of a frame's header (stdin is never sent for logs, but is a valid frame).
  public enum Stream: UInt8, Sendable {
    case stdin = 0
    case stdout = 1
    case stderr = 2
  }

  public var stream: Stream
  /// The line without its newline.
  public var text: String

  public init(stream: Stream, text: String) {
    self.stream = stream
    self.text = text
  }

  /// Splits Docker's multiplexed log stream: each frame is an 8-byte header, `[stream, 0, 0, 0,
  /// size as a big-endian UInt32]`, then `size` bytes of output. A frame's output is split into
  /// lines (a line cut across frames stays two lines, as Docker cuts them past 16 KiB). A truncated
  /// frame or an unknown stream byte is an error rather than garbage shown as text.
  public static func demultiplex(_ bytes: [UInt8]) throws(DockerError) -> [LogLine] {
    var lines: [LogLine] = []
    var offset = 0
    while offset < bytes.count {
      guard bytes.count - offset >= 8 else {
        throw .invalidResponse("logs: a frame header is cut short at byte \(offset)")
      }
      guard let stream = Stream(rawValue: bytes[offset]), bytes[offset + 1] == 0, bytes[offset + 2] == 0,
        bytes[offset + 3] == 0
      else {
        throw .invalidResponse("logs: byte \(offset) does not start a frame (stream \(bytes[offset]))")
      }
      let size = bytes[offset + 4..<offset + 8].reduce(0) { $0 << 8 | Int($1) }
      let start = offset + 8
      guard bytes.count - start >= size else {
        throw .invalidResponse("logs: a frame of \(size) bytes at byte \(offset) is cut short")
      }
      lines += Self.lines(bytes[start..<start + size], stream: stream)
      offset = start + size
    }
    return lines
  }

  /// Output as a TTY container sends it (no frames): all of it stdout.
  static func raw(_ bytes: [UInt8]) -> [LogLine] {
    lines(bytes[...], stream: .stdout)
  }

  private static func lines(_ bytes: ArraySlice<UInt8>, stream: Stream) -> [LogLine] {
    var pieces = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    if pieces.last?.isEmpty == true { pieces.removeLast() }
    return pieces.map { piece in
      let text = piece.last == UInt8(ascii: "\r") ? piece.dropLast() : piece
      return LogLine(stream: stream, text: String(decoding: text, as: UTF8.self))
    }
  }
}
