/// A minimal PNG writer: 8-bit grayscale, no interlace, the pixels in one IDAT as a zlib stream of
/// stored (uncompressed) deflate blocks. Enough for the simulator's QR images, which must be PNGs a
/// real decoder accepts (a front end shows them) but need not be small.
enum PNGImage {
  static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

  /// The PNG file of a `width` × `height` grayscale image; `pixels` holds the rows top to bottom,
  /// one byte per pixel (0 black, 255 white).
  static func grayscale(width: Int, height: Int, pixels: [UInt8]) -> [UInt8] {
    precondition(width > 0 && height > 0 && pixels.count == width * height, "pixels must be width × height")
    var header: [UInt8] = []
    header += bigEndian(UInt32(width))
    header += bigEndian(UInt32(height))
    // Bit depth 8, color type 0 (grayscale), compression 0, filter method 0, no interlace.
    header += [8, 0, 0, 0, 0]

    // Each scanline starts with its filter type: 0, none.
    var scanlines: [UInt8] = []
    scanlines.reserveCapacity(height * (width + 1))
    for row in 0..<height {
      scanlines.append(0)
      scanlines += pixels[(row * width)..<((row + 1) * width)]
    }

    return signature + chunk("IHDR", header) + chunk("IDAT", zlibStored(scanlines)) + chunk("IEND", [])
  }

  /// A chunk: data length, type, data, then the CRC-32 of type and data.
  static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let typeBytes = Array(type.utf8)
    return bigEndian(UInt32(data.count)) + typeBytes + data + bigEndian(crc32(typeBytes + data))
  }

  /// A zlib stream (RFC 1950) of stored deflate blocks (RFC 1951 §3.2.4), at most 65,535 bytes each,
  /// then the Adler-32 of the data.
  static func zlibStored(_ data: [UInt8]) -> [UInt8] {
    // CMF 0x78: deflate with a 32 KiB window; FLG 0x01 makes CMF·256 + FLG a multiple of 31.
    var out: [UInt8] = [0x78, 0x01]
    var start = 0
    repeat {
      let end = min(start + 65_535, data.count)
      let length = UInt16(end - start)
      out.append(end == data.count ? 1 : 0)  // BFINAL on the last block; BTYPE 00, stored.
      out += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
      out += data[start..<end]
      start = end
    } while start < data.count
    return out + bigEndian(adler32(data))
  }

  static func adler32(_ data: [UInt8]) -> UInt32 {
    var a: UInt32 = 1
    var b: UInt32 = 0
    for byte in data {
      a = (a + UInt32(byte)) % 65_521
      b = (b + a) % 65_521
    }
    return b << 16 | a
  }

  /// CRC-32 (ISO-HDLC, reflected polynomial 0xEDB88320), as PNG chunks carry it.
  static func crc32(_ data: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in data {
      crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
    }
    return crc ^ 0xFFFF_FFFF
  }

  private static let crcTable: [UInt32] = (0..<256).map { index in
    var value = UInt32(index)
    for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
    return value
  }

  private static func bigEndian(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
  }
}
