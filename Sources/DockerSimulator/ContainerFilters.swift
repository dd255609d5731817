import Wire

/// `GET /containers/json?filters=…`: `{"label":["k=v","k"],"name":[…],"id":[…],"status":[…]}`
/// (or each list as a map to true, which older clients send). Different filters must all match;
/// the values of one filter match if any does, except labels, which must all be there.
struct ContainerFilters: Sendable {
  var labels: [String] = []
  var names: [String] = []
  var ids: [String] = []
  var statuses: [String] = []

  init() {}

  init(json text: String) throws(EngineError) {
    let value: JSONValue
    do {
      value = try JSONValue.parse(Array(text.utf8))
    } catch {
      throw .badParameter("invalid filter: \(error.reason)")
    }
    guard case .object(let fields) = value else { throw .badParameter("invalid filter: not an object") }
    for (key, item) in fields {
      var values: [String] = []
      switch item {
      case .array(let items): values = items.compactMap(\.string)
      case .object(let map): values = map.keys.sorted()
      default: throw .badParameter("invalid filter '\(key)'")
      }
      switch key {
      case "label": labels = values
      case "name": names = values
      case "id": ids = values
      case "status": statuses = values
      default: throw .badParameter("invalid filter '\(key)'")
      }
    }
  }

  func matches(_ container: SimContainer) -> Bool {
    for label in labels {
      let parts = label.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let key = String(parts[0])
      guard let value = container.spec.labels[key] else { return false }
      if parts.count == 2, value != parts[1] { return false }
    }
    if !names.isEmpty,
      !names.contains(where: { container.name.contains($0.hasPrefix("/") ? String($0.dropFirst()) : $0) })
    {
      return false
    }
    if !ids.isEmpty, !ids.contains(where: { container.id.hasPrefix($0) }) { return false }
    if !statuses.isEmpty, !statuses.contains(container.status.rawValue) { return false }
    return true
  }
}
