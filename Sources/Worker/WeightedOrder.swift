/// Orders queues for one fetch: a weighted random permutation, so that under load each queue is
/// tried first in proportion to its weight, and no queue is starved while others are empty.
struct WeightedOrder {
  let queues: [(name: String, weight: Int)]

  func next(using rng: inout some RandomNumberGenerator) -> [String] {
    var remaining = queues
    var order: [String] = []
    order.reserveCapacity(queues.count)
    while !remaining.isEmpty {
      let total = remaining.reduce(0) { $0 + max(1, $1.weight) }
      var pick = Int.random(in: 0..<total, using: &rng)
      var index = 0
      for (i, queue) in remaining.enumerated() {
        pick -= max(1, queue.weight)
        if pick < 0 {
          index = i
          break
        }
      }
      order.append(remaining.remove(at: index).name)
    }
    return order
  }
}
