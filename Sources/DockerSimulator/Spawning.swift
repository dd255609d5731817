import Foundation

/// glibc calls Swift's Glibc module does not declare (they need `_GNU_SOURCE`), found at run time:
/// `pipe2` with `O_CLOEXEC` and `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34). Without
/// them a pipe is made close-on-exec right after it is made, and inherited descriptors are left to
/// their own close-on-exec flags (NIO's sockets and epoll descriptors carry theirs).
enum Spawning {
  private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32
  private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32

  private static func symbol<T>(_ name: String, as type: T.Type) -> T? {
    guard let handle = dlopen(nil, RTLD_NOW), let address = dlsym(handle, name) else { return nil }
    return unsafeBitCast(address, to: type)
  }

  private static let pipe2 = symbol("pipe2", as: Pipe2.self)
  private static let closeFrom = symbol(
    "posix_spawn_file_actions_addclosefrom_np", as: CloseFrom.self)

  /// A pipe, both ends close-on-exec; nil on failure (errno says why).
  static func pipe() -> [Int32]? {
    var fds: [Int32] = [-1, -1]
    if let pipe2 {
      guard pipe2(&fds, O_CLOEXEC) == 0 else { return nil }
      return fds
    }
    guard Glibc.pipe(&fds) == 0 else { return nil }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return fds
  }

  /// Asks the spawn to close every descriptor from `lowest` up in the child, where glibc can.
  static func closeFrom(_ lowest: Int32, in actions: inout posix_spawn_file_actions_t) {
    guard let closeFrom else { return }
    _ = closeFrom(&actions, lowest)
  }
}
