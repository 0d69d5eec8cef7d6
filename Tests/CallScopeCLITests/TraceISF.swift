// The 19041 symbol table (Volatility 3 ISF of ntkrnlmp.pdb 3177D31000BA7590DED335936C93E374-1, in
// ../shared/data/isf) read directly with JSONSerialization: the independent source of the offsets the
// boot guest is laid out with and of KeUserModeCallback's RVA.

import Foundation
import TestData

/// Offsets, sizes and symbol RVAs from one ISF file.
struct TraceISF {
  static let relative = "data/isf/ntkrnlmp.pdb/3177D31000BA7590DED335936C93E374-1.json.xz"
  let path: String
  private let types: [String: Any]
  private let symbols: [String: Any]

  static func load() throws -> TraceISF {
    let path = try TestData.decompressed(relative)
    guard let root = try TestData.json(path) as? [String: Any], let types = root["user_types"] as? [String: Any],
      let symbols = root["symbols"] as? [String: Any]
    else { throw CLI.Missing(description: "\(path) is not an ISF file") }
    return TraceISF(path: TestData.shared(relative).path, types: types, symbols: symbols)
  }

  /// The offset of `field` in `type`, following a dotted path through embedded structs (`Tcb.ApcState`).
  func offset(_ type: String, _ path: String) throws -> UInt64 {
    var current = type
    var total: UInt64 = 0
    for name in path.split(separator: ".").map(String.init) {
      guard let t = types[current] as? [String: Any], let fields = t["fields"] as? [String: Any],
        let field = fields[name] as? [String: Any], let offset = field["offset"] as? Int
      else { throw CLI.Missing(description: "ISF has no \(current).\(name)") }
      total += UInt64(offset)
      current = ((field["type"] as? [String: Any])?["name"] as? String) ?? ""
    }
    return total
  }

  func size(_ type: String) throws -> Int {
    guard let t = types[type] as? [String: Any], let size = t["size"] as? Int else {
      throw CLI.Missing(description: "ISF has no size of \(type)")
    }
    return size
  }

  func rva(_ symbol: String) throws -> UInt64 {
    guard let s = symbols[symbol] as? [String: Any], let address = s["address"] as? Int else {
      throw CLI.Missing(description: "ISF has no symbol \(symbol)")
    }
    return UInt64(address)
  }
}
