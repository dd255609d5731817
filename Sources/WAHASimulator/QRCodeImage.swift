import Crypto

/// The simulator's QR codes: a value shaped like WhatsApp's (`2@…,…,…,1`), new for every
/// SCAN_QR_CODE, and its picture. The picture looks like a QR code (a 21 × 21 grid with the three
/// finder squares and the timing lines) and is drawn from the value, so the same value gives the same
/// PNG; its other modules come from a hash, so no phone can read it: nothing scans a simulator.
enum QRCodeImage {
  static let modules = 21
  /// Pixels per module.
  static let scale = 4
  /// White modules around the grid, as a QR code's quiet zone asks.
  static let quietZone = 4
  /// The PNG's width and height in pixels.
  static let side = (modules + 2 * quietZone) * scale

  private static let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")

  /// A fresh value, as WhatsApp issues a new one for every code.
  static func newValue() -> String {
    func part(_ count: Int) -> String {
      String((0..<count).map { _ in base64Alphabet[Int.random(in: 0..<base64Alphabet.count)] })
    }
    return "2@\(part(60)),\(part(43))=,\(part(43))=,\(part(43))=,1"
  }

  /// The PNG of `value`.
  static func png(for value: String) -> [UInt8] {
    let grid = grid(for: value)
    var pixels = [UInt8](repeating: 255, count: side * side)
    for row in 0..<modules {
      for column in 0..<modules where grid[row * modules + column] {
        let top = (row + quietZone) * scale
        let left = (column + quietZone) * scale
        for y in top..<(top + scale) {
          for x in left..<(left + scale) { pixels[y * side + x] = 0 }
        }
      }
    }
    return PNGImage.grayscale(width: side, height: side, pixels: pixels)
  }

  /// Dark modules, row by row: finder squares in three corners with their white separators, the
  /// timing lines on row and column 6, and bits of SHA-256 of the value everywhere else.
  static func grid(for value: String) -> [Bool] {
    var bits: [Bool] = []
    var round = 0
    while bits.count < modules * modules {
      let digest = SHA256.hash(data: Array("\(round):\(value)".utf8))
      for byte in digest {
        for shift in 0..<8 { bits.append(byte >> shift & 1 == 1) }
      }
      round += 1
    }
    var grid = Array(bits.prefix(modules * modules))
    for row in 0..<modules {
      for column in 0..<modules {
        if let fixed = fixedModule(row: row, column: column) { grid[row * modules + column] = fixed }
      }
    }
    return grid
  }

  /// The modules a QR code's layout fixes, nil for data modules.
  private static func fixedModule(row: Int, column: Int) -> Bool? {
    let corners = [(0, 0), (0, modules - 7), (modules - 7, 0)]
    for (top, left) in corners {
      let y = row - top
      let x = column - left
      // The separator: one white module around each 7 × 7 finder square.
      guard (-1...7).contains(y) && (-1...7).contains(x) else { continue }
      if y == -1 || y == 7 || x == -1 || x == 7 { return false }
      let ring = min(y, x, 6 - y, 6 - x)
      return ring != 1  // Dark outer ring, white ring, dark 3 × 3 center.
    }
    if row == 6 { return column % 2 == 0 }
    if column == 6 { return row % 2 == 0 }
    return nil
  }
}
