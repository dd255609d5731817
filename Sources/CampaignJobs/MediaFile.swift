import Foundation

/// What WAHA needs to know about a campaign's media URL: its type, from the file extension (the
/// URL is fetched by WAHA, not by us), and whether it goes out as an image or as a document.
struct MediaFile {
  let mimetype: String
  let filename: String?
  let isImage: Bool

  private static let types: [String: String] = [
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif",
    "pdf": "application/pdf", "mp4": "video/mp4", "mp3": "audio/mpeg", "ogg": "audio/ogg",
    "doc": "application/msword", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  ]

  init(url: String) {
    let path = URL(string: url)?.path ?? ""
    let name = path.split(separator: "/").last.map(String.init)
    let ext = name.flatMap { $0.contains(".") ? $0.split(separator: ".").last.map { $0.lowercased() } : nil } ?? ""
    mimetype = Self.types[ext] ?? "application/octet-stream"
    filename = name
    isImage = mimetype.hasPrefix("image/")
  }
}
