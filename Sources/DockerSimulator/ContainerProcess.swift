import Foundation
import NativeThreads
import Synchronization

/// A container's main process: a real child, spawned in a process group of its own (so a signal
/// reaches whatever it started, as Docker's signals reach the whole container), with its output
/// captured into the container's log. One native thread per child reads its output and notices its
/// exit (polling, so nothing blocks for good and nothing runs on Swift's cooperative pool); when the
/// main process exits, what is left of its group is killed, as Docker tears a container down, and
/// the child is reaped.
///
/// Foundation's `Process` is not used: on Linux it learns of an exit only when a socket the child
/// inherited closes, and a sibling spawned at the same moment can inherit it too
/// (swift-corelibs-foundation#4795), which would hide one container's crash until another exits.
final class ContainerProcess: Sendable {
  let pid: pid_t
  let exit = ExitLatch()
  /// True once reaped: from then on the pid may belong to someone else, so no signal is sent.
  private let reaped = Mutex(false)
  private let thread = Mutex<JoinableThread?>(nil)

  private init(pid: pid_t) {
    self.pid = pid
  }

  struct SpawnError: Error, CustomStringConvertible {
    let description: String
  }

  /// Starts `executable` (found on PATH if it has no slash) with `arguments` and exactly `environment`.
  static func spawn(
    executable: String, arguments: [String], environment: [String: String], output: OutputLog
  ) throws(SpawnError) -> ContainerProcess {
    // Close-on-exec, so no other child (another container started at the same moment) holds them.
    guard let stdoutPipe = Spawning.pipe() else { throw SpawnError(description: "pipe: \(errnoText())") }
    guard let stderrPipe = Spawning.pipe() else {
      close(stdoutPipe[0])
      close(stdoutPipe[1])
      throw SpawnError(description: "pipe: \(errnoText())")
    }

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
    posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
    // Nothing else of ours (the listening socket, other containers' pipes) reaches the child.
    Spawning.closeFrom(3, in: &actions)

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    // Its own process group; no signal blocked, none ignored (a server may ignore SIGPIPE, and
    // ignored signals would stay ignored in the child).
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    posix_spawnattr_setpgroup(&attributes, 0)
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    var allSignals = sigset_t()
    sigfillset(&allSignals)
    posix_spawnattr_setsigdefault(&attributes, &allSignals)

    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      argv.forEach { free($0) }
      envp.forEach { free($0) }
    }
    var pid: pid_t = 0
    let result = posix_spawnp(&pid, executable, &actions, &attributes, argv, envp)
    close(stdoutPipe[1])
    close(stderrPipe[1])
    guard result == 0 else {
      close(stdoutPipe[0])
      close(stderrPipe[0])
      throw SpawnError(description: "exec: \"\(executable)\": \(String(cString: strerror(result)))")
    }

    let process = ContainerProcess(pid: pid)
    let (stdoutRead, stderrRead) = (stdoutPipe[0], stderrPipe[0])
    let reader = JoinableThread(name: "whago.sim.docker.child") { [process] in
      process.watch(stdout: stdoutRead, stderr: stderrRead, output: output)
    }
    guard let reader else {
      // No thread to watch it: it must not run unwatched.
      process.signal(SIGKILL)
      var status: Int32 = 0
      waitpid(pid, &status, 0)
      close(stdoutPipe[0])
      close(stderrPipe[0])
      throw SpawnError(description: "no thread to watch the process")
    }
    process.thread.withLock { $0 = reader }
    return process
  }

  /// Signals the whole process group, unless the process has been reaped.
  func signal(_ signal: Int32) {
    reaped.withLock { reaped in
      guard !reaped else { return }
      if kill(-pid, signal) != 0 { kill(pid, signal) }
    }
  }

  /// Waits for the watching thread to end (it ends soon after the exit).
  func join() async {
    await thread.withLock { $0 }?.join()
  }

  /// The watching thread: output into the log until the main process exits, then what is left of
  /// its group killed, the child reaped, the last output drained (at most a second), the latch opened.
  private func watch(stdout: Int32, stderr: Int32, output: OutputLog) {
    var fds = [
      pollfd(fd: stdout, events: Int16(POLLIN), revents: 0), pollfd(fd: stderr, events: Int16(POLLIN), revents: 0),
    ]
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    var status: ExitStatus?
    var drainUntil = ContinuousClock.now
    while true {
      _ = poll(&fds, nfds_t(fds.count), 100)
      for index in fds.indices where fds[index].fd >= 0 && fds[index].revents != 0 {
        let count = buffer.withUnsafeMutableBytes { read(fds[index].fd, $0.baseAddress, $0.count) }
        if count > 0 {
          output.append(buffer[..<count], stream: UInt8(index + 1))
        } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
          close(fds[index].fd)
          fds[index].fd = -1
        }
      }
      if status == nil, let exited = reapIfExited() {
        status = exited
        drainUntil = .now + .seconds(1)
      }
      if let status, fds.allSatisfy({ $0.fd < 0 }) || ContinuousClock.now >= drainUntil {
        for fd in fds where fd.fd >= 0 { close(fd.fd) }
        output.flush()
        exit.open(status)
        return
      }
    }
  }

  /// The exit status if the main process has exited, after killing the rest of its group and
  /// reaping it; nil while it runs. The zombie keeps the pid (and so the group id) ours until the
  /// reap, which happens under the same lock `signal` takes.
  private func reapIfExited() -> ExitStatus? {
    var info = siginfo_t()
    guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0,
      info._sifields._sigchld.si_pid == pid
    else { return nil }
    kill(-pid, SIGKILL)
    return reaped.withLock { reaped -> ExitStatus in
      var raw: Int32 = 0
      let result = waitpid(pid, &raw, 0)
      reaped = true
      guard result == pid else { return .exited(255) }
      // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift cannot call.
      let signal = raw & 0x7F
      return signal == 0 ? .exited((raw >> 8) & 0xFF) : .signaled(signal)
    }
  }

  private static func errnoText() -> String {
    String(cString: strerror(errno))
  }
}
