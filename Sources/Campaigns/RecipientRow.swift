/// One recipient as the tenant sent it, before any check: `{"phone": "...", "vars": {...}}`.
///
/// Decoding is lenient on purpose: a phone or a value written as a JSON number or boolean is read as
/// its text, and a row without a phone decodes with an empty one, so the row is reported as
/// rejected with its number instead of failing the whole request.
public struct RecipientRow: Sendable, Hashable {
  public var phone: String
  public var variables: [String: String]

  public init(phone: String, variables: [String: String] = [:]) {
    self.phone = phone
    self.variables = variables
  }
}

extension RecipientRow: Decodable {
  private enum CodingKeys: String, CodingKey {
    case phone
    case variables = "vars"
  }

  private struct Scalar: Decodable {
    let text: String?

    init(from decoder: any Decoder) throws {
      let container = try decoder.singleValueContainer()
      if container.decodeNil() {
        text = nil
      } else if let string = try? container.decode(String.self) {
        text = string
      } else if let bool = try? container.decode(Bool.self) {
        text = String(bool)
      } else if let integer = try? container.decode(Int64.self) {
        text = String(integer)
      } else {
        text = String(try container.decode(Double.self))
      }
    }
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    phone = try container.decodeIfPresent(Scalar.self, forKey: .phone)?.text ?? ""
    let scalars = try container.decodeIfPresent([String: Scalar].self, forKey: .variables) ?? [:]
    variables = scalars.compactMapValues(\.text)
  }
}
