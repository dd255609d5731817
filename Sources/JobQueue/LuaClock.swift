/// The Lua lines every script starts with: time comes from Redis `TIME`, never from a worker's
/// clock, so skew between hosts cannot reorder due times, leases or buckets.
///
/// `nowText` is `now` formatted once: a Lua number passed to `redis.call` is formatted with
/// `%.17g` on every call, which showed as 6% of Redis's CPU in a drain where every job's record
/// was stamped with it.
enum LuaClock {
  static let now = """
    local __t = redis.call('TIME')
    local now = tonumber(__t[1]) * 1000 + math.floor(tonumber(__t[2]) / 1000)
    local nowText = string.format('%d', now)

    """
}
