// The parts of a reference image's truth file (../shared/images/*.truth.json, written
// independently of CallScope; see images/README.md) that the callback tests compare against.

import Foundation
import TestData

/// One planted callback (`callbacks[]`).
struct TruthCallback: Sendable, CustomStringConvertible {
  /// CallScope family id (`callscope_family`).
  var family: String
  var headSymbol: String
  var headVA: UInt64?
  var slot: Int?
  var function: UInt64
  var functionName: String
  /// The image that really holds the routine (nil: anonymous memory).
  var ownerImage: String?
  /// The PsLoadedModuleList module holding the routine (nil when none does).
  var module: String?
  var moduleOffset: UInt64?
  var objectVA: UInt64?
  /// `pre` / `post` for object callbacks.
  var routineKind: String?
  var anomalies: [String]
  /// `extra{…}` with every value as text (numbers in decimal, strings as is).
  var extra: [String: String]
  var firstBytes: [UInt8]

  var description: String {
    "\(family) \(functionName) \(TestData.hexString(function)) slot \(slot.map(String.init) ?? "-")"
  }

  /// An `extra` value parsed as an address or number (`0x…` hex or decimal).
  func number(_ key: String) -> UInt64? {
    guard let text = extra[key] else { return nil }
    return text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
  }
}

/// A module of the truth file (`modules[]`).
struct TruthModule: Sendable {
  var name: String
  var base: UInt64
  var size: UInt64
  var inLoadedModuleList: Bool
}

/// A callback a robust tool must still report on a corrupt image (`expected_still_reported.callbacks`).
struct TruthExpected: Sendable {
  var family: String
  var function: UInt64
  var functionName: String
  var ownerImage: String?
  var slot: Int?
}

/// A parsed truth file.
struct Truth: Sendable {
  var scenario: String
  /// e.g. 19041 from `10.0.19041.1415`.
  var buildNumber: Int
  var callbacks: [TruthCallback]
  var modules: [TruthModule]
  /// Family ids listed in `families_skipped` (their symbol is missing in this build).
  var familiesSkipped: [String]
  /// The families the truth speaks for: `callscope_family_map`, the planted callbacks' families and
  /// the skipped ones. A family outside it (e.g. etw-provider, whose state the generator leaves
  /// null) is not described by the truth either way.
  var familiesCovered: Set<String>
  var counters: [String: Int]
  /// Empty unless the image is one of the corrupt-* ones.
  var expectedStillReported: [TruthExpected]

  init(path: String) throws {
    guard let top = try TestData.json(path) as? [String: Any] else {
      throw TestDataError.tool("\(path): not an object")
    }
    func string(_ any: Any?) -> String? { any as? String }
    func int(_ any: Any?) -> Int? { (any as? NSNumber)?.intValue }
    scenario = string(top["scenario"]) ?? ""
    let build = string(top["build"]) ?? ""
    let parts = build.split(separator: ".")
    guard parts.count >= 3, let number = Int(parts[2]) else { throw TestDataError.tool("\(path): build \(build)") }
    buildNumber = number
    callbacks = try ((top["callbacks"] as? [[String: Any]]) ?? []).map { c in
      guard let family = string(c["callscope_family"]), let function = TestData.hex(c["function"]) else {
        throw TestDataError.tool("\(path): callback without callscope_family/function: \(c)")
      }
      var extra: [String: String] = [:]
      for (key, value) in (c["extra"] as? [String: Any]) ?? [:] {
        if let s = value as? String {
          extra[key] = s
        } else if let n = value as? NSNumber {
          extra[key] = n.stringValue
        }
      }
      let bytesText = string(c["first_bytes"]) ?? ""
      var bytes: [UInt8] = []
      var index = bytesText.startIndex
      while let next = bytesText.index(index, offsetBy: 2, limitedBy: bytesText.endIndex), index != next {
        guard let byte = UInt8(bytesText[index..<next], radix: 16) else { break }
        bytes.append(byte)
        index = next
      }
      return TruthCallback(
        family: family, headSymbol: string(c["head_symbol"]) ?? "", headVA: TestData.hex(c["head_va"]),
        slot: int(c["slot"]), function: function, functionName: string(c["function_name"]) ?? "",
        ownerImage: string(c["owner_image"]), module: string(c["module"]),
        moduleOffset: TestData.hex(c["module_offset"]),
        objectVA: TestData.hex(c["object_va"]), routineKind: string(c["routine_kind"]),
        anomalies: (c["anomalies"] as? [String]) ?? [], extra: extra, firstBytes: bytes)
    }
    modules = ((top["modules"] as? [[String: Any]]) ?? []).compactMap { m in
      guard let name = string(m["name"]), let base = TestData.hex(m["base"]), let size = TestData.hex(m["size"]) else {
        return nil
      }
      return TruthModule(
        name: name, base: base, size: size, inLoadedModuleList: (m["in_PsLoadedModuleList"] as? Bool) ?? true)
    }
    familiesSkipped = ((top["families_skipped"] as? [[String: Any]]) ?? []).compactMap {
      string($0["callscope_family"])
    }
    let mapped = ((top["callscope_family_map"] as? [String: Any]) ?? [:]).values.compactMap { string($0) }
    familiesCovered = Set(mapped + callbacks.map(\.family) + familiesSkipped)
    counters = ((top["counters"] as? [String: Any]) ?? [:]).compactMapValues { int($0) }
    let expected = (top["expected_still_reported"] as? [String: Any])?["callbacks"] as? [[String: Any]] ?? []
    expectedStillReported = expected.compactMap { e in
      guard let family = string(e["callscope_family"]), let function = TestData.hex(e["function"]) else { return nil }
      return TruthExpected(
        family: family, function: function, functionName: string(e["function_name"]) ?? "",
        ownerImage: string(e["owner_image"]), slot: int(e["slot"]))
    }
  }

  /// Planted callbacks per family.
  var countsByFamily: [String: Int] { callbacks.reduce(into: [:]) { $0[$1.family, default: 0] += 1 } }
}

extension TestData {
  /// `0x…` text of an address (for messages).
  static func hexString(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
}
