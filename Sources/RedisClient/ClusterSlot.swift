/// Redis Cluster's key-to-slot mapping: CRC16 (XMODEM) of the key, or of its hash tag (the text
/// between the first `{` and the next `}`, when not empty), modulo 16,384. Every key of one queue
/// carries the tag `{queue}`, so a queue lives in one slot and each script touches one node.
public enum ClusterSlot {
  public static let count = 16_384

  public static func of(_ key: String) -> Int { of(Array(key.utf8)) }

  public static func of<Bytes: RandomAccessCollection<UInt8>>(_ key: Bytes) -> Int where Bytes.Index == Int {
    var hashed = key[key.startIndex..<key.endIndex]
    if let open = key.firstIndex(of: UInt8(ascii: "{")),
      let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1
    {
      hashed = key[(open + 1)..<close]
    }
    return Int(crc16(hashed) & 0x3FFF)
  }

  private static func crc16<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> UInt16 {
    var crc: UInt16 = 0
    for byte in bytes {
      crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
    }
    return crc
  }

  /// CRC16-CCITT (polynomial 0x1021, initial 0), as the cluster specification's appendix gives it.
  private static let table: [UInt16] = (0..<256).map { index in
    var crc = UInt16(index) << 8
    for _ in 0..<8 {
      crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
    }
    return crc
  }
}

extension RedisCommand {
  /// The key whose slot decides which cluster node runs this command: the explicit route when one
  /// was given, else the command's first key (after `numkeys` for scripts), else nil (any node).
  var routingKey: ArraySlice<UInt8>? {
    if let route { return route[...] }
    guard let name = arguments.first else { return nil }
    switch String(decoding: name, as: UTF8.self).uppercased() {
    case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO":
      guard arguments.count > 3, let count = Int(String(decoding: arguments[2], as: UTF8.self)), count > 0
      else { return nil }
      return arguments[3][...]
    case "MEMORY", "OBJECT":  // MEMORY USAGE key, OBJECT ENCODING key
      return arguments.count > 2 ? arguments[2][...] : nil
    case "TIME", "PING", "INFO", "SCRIPT", "CLUSTER", "WAIT", "DBSIZE", "FLUSHDB", "FLUSHALL", "CONFIG", "CLIENT",
      "ROLE", "SELECT", "AUTH", "ASKING", "KEYS", "SCAN", "COMMAND", "LASTSAVE", "SLOWLOG", "LATENCY", "DEBUG",
      "ECHO", "HELLO", "READONLY", "READWRITE", "RANDOMKEY", "SAVE", "BGSAVE", "SHUTDOWN", "REPLICAOF":
      return nil
    default:
      return arguments.count > 1 ? arguments[1][...] : nil
    }
  }
}
