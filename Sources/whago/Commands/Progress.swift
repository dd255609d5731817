import Foundation
import JobQueue

/// A progress line on standard error for bulk work, redrawn in place on a terminal and printed
/// every few seconds otherwise, with count and rate.
final class Progress {
  private let total: Int
  private let label: String
  private let started = ContinuousClock.now
  private var lastDraw = ContinuousClock.now
  private let interactive = isatty(STDERR_FILENO) == 1

  init(total: Int, label: String) {
    self.total = total
    self.label = label
  }

  func update(_ done: Int) {
    let now = ContinuousClock.now
    guard now - lastDraw >= (interactive ? .milliseconds(100) : .seconds(5)) || done == total else { return }
    lastDraw = now
    let seconds = max(0.001, Double((now - started).milliseconds) / 1000)
    let percent = total > 0 ? done * 100 / total : 100
    let width = 30
    let filled = total > 0 ? done * width / total : width
    let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
    let line = "[\(bar)] \(percent)% \(done)/\(total) \(label), \(Int(Double(done) / seconds))/s"
    FileHandle.standardError.write(Data(((interactive ? "\r" : "") + line + (interactive ? "" : "\n")).utf8))
  }

  func finish() {
    if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
  }
}
