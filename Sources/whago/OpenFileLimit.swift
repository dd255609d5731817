#if canImport(Glibc)
  import Glibc
#endif

/// Each connection is a file descriptor, and many systems start a process with a soft limit of
/// 1,024 of them: far below `--max-connections`. A server raises its own soft limit to the hard
/// one, as nginx's `worker_rlimit_nofile` and Go's runtime do, so that the cap it was given is the
/// one that holds. Returns the limit now in force.
enum OpenFileLimit {
  @discardableResult
  static func raiseToHard() -> Int {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
    if limit.rlim_cur < limit.rlim_max {
      var raised = limit
      raised.rlim_cur = limit.rlim_max
      if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return Int(raised.rlim_cur) }
    }
    return Int(limit.rlim_cur)
  }
}
