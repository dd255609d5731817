/// Request and response bodies of WAHA's REST API, as its documentation gives them.
public struct ChatTarget: Codable, Sendable {
  public var session: String
  public var chatId: String
}

struct SendTextBody: Encodable {
  var session: String
  var chatId: String
  var text: String
}

public struct WAHAFile: Codable, Sendable, Equatable {
  public var mimetype: String
  public var url: String
  public var filename: String?

  public init(mimetype: String, url: String, filename: String? = nil) {
    self.mimetype = mimetype
    self.url = url
    self.filename = filename
  }
}

struct SendFileBody: Encodable {
  var session: String
  var chatId: String
  var file: WAHAFile
  var caption: String?
}

/// What a send answered. NOWEB gives `key.id`; other engines give `id` (a string or an object).
public struct SentMessage: Sendable, Equatable {
  /// The message id as WAHA's acks name it at their end (`true_<chatId>_<id>` ends with this).
  public var id: String
}

struct SendAnswer: Decodable {
  struct Key: Decodable { var id: String? }
  var key: Key?
  var id: IDValue?

  enum IDValue: Decodable {
    case text(String)
    case object([String: String])
    init(from decoder: any Decoder) throws {
      let c = try decoder.singleValueContainer()
      if let s = try? c.decode(String.self) {
        self = .text(s)
      } else {
        self = .object((try? c.decode([String: String].self)) ?? [:])
      }
    }
  }

  var messageID: String? {
    if let id = key?.id { return id }
    switch id {
    case .text(let s)?: return s
    case .object(let o)?: return o["_serialized"] ?? o["id"]
    case nil: return nil
    }
  }
}

/// A session's state as `GET /api/sessions/{name}` gives it.
public struct WAHASession: Decodable, Sendable, Equatable {
  public struct Me: Decodable, Sendable, Equatable {
    public var id: String
    public var pushName: String?
  }

  /// The part of the session's configuration whago compares with what it should be.
  public struct Config: Decodable, Sendable, Equatable {
    public struct Proxy: Decodable, Sendable, Equatable {
      public var server: String?
      public var username: String?
    }
    public var proxy: Proxy?
  }

  public var name: String
  /// STOPPED, STARTING, SCAN_QR_CODE, WORKING, FAILED, or a newer status this code does not know.
  public var status: String
  public var me: Me?
  public var config: Config?

  public var isWorking: Bool { status == "WORKING" }
}

struct CheckExistsAnswer: Decodable {
  var numberExists: Bool
  var chatId: String?
}

struct NotWorkingAnswer: Decodable {
  var status: String?
}

struct MessageAnswer: Decodable {
  var message: String?
  var error: String?
}
