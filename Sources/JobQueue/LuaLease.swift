/// Lua shared by every script that takes, checks or ends a lease.
///
/// A run's lease lives in the queue's `leases` HASH (`QueueKeys.leases`): job id ->
/// `<token>@<started at>`. A fetch writes its whole batch's leases in one HSET and an ack ends a
/// whole batch's in one HDEL, so a job's own record is not written when it starts, and its state
/// stays 'ready' while it runs and after: `jobState` reads a ready record that holds a lease as
/// 'active', and one in the finished set as 'done' (its start time is in `QueueKeys.starts`).
/// (Each write a script makes is also a command in the append-only file and to replicas. With no
/// record written per job at fetch or at ack, Redis executes 22% fewer instructions per drained
/// job: BENCHMARKS.md, "Leases in one hash per queue".)
///
/// The leases hash, and the starts hash, also hold one field that is no job id, `#`, with a value
/// longer than Redis's `hash-max-listpack-value` (64 bytes by default), written with every batch
/// (`leasesPad`). A hash of up to 128 short fields is a listpack, which every HSET, HMGET and HDEL
/// scans from the start and every insert reallocates: a batch of 100 leases into it cost as much
/// as the per-job record writes it replaced. The long value keeps a hash a hashtable from its first
/// write, and keeps it alive.
///
/// Jobs leased by a version before this one keep their token in the record's 'l' field and
/// 'active' as its state. No script of this version matches those tokens (only their own workers
/// hold them, and those run their own scripts); recovery requeues them when their lease expires,
/// and `RunningJobs` still lists them.
enum LuaLease {
  static let functions = """
    -- The value of the '#' field that keeps the leases and starts hashes hashtables (see LuaLease
    -- in Swift).
    local leasesPad = string.rep('#', 72)

    -- True when `lease` (a value of the leases hash, or false) is the lease of `token`.
    local function leaseHeldBy(lease, token)
      if not lease then return false end
      local n = #token
      return string.sub(lease, 1, n) == token and string.find(lease, '^@%d+$', n + 1) ~= nil
    end

    -- When the run holding `lease` started (Redis ms, as text).
    local function leaseStart(lease)
      return string.match(lease, '@(%d+)$')
    end

    -- A job's state: its record's, except that a record filed as ready is running while its id
    -- holds a lease, and done once its id is in the finished set (cancelled jobs there say so).
    local function jobState(leasesKey, finishedKey, jk, id)
      local s = redis.call('HGET', jk, 's')
      if s == 'ready' then
        if redis.call('HEXISTS', leasesKey, id) == 1 then return 'active' end
        if redis.call('ZSCORE', finishedKey, id) then return 'done' end
      end
      return s
    end

    """
}

extension Broker {
  /// The layout of what this version's workers share with every other worker: 1 kept a run's
  /// lease token in the job's record; 2 keeps leases in the queue's leases hash (`LuaLease`); 3
  /// also claims campaign messages without their text, which the pre-send check keeps (an earlier
  /// worker taking over such a message in flight would send it empty). Workers say theirs in their
  /// heartbeat, so a worker can refuse to start beside workers that would misread its work.
  public static let leaseLayout = 3
}
