/// The Lua lines every script starts with: time comes from Redis `TIME`, never from a worker's
/// clock, so skew between hosts cannot reorder due times, leases or buckets.
enum LuaClock {
  static let now = """
    local __t = redis.call('TIME')
    local now = tonumber(__t[1]) * 1000 + math.floor(tonumber(__t[2]) / 1000)

    """
}
