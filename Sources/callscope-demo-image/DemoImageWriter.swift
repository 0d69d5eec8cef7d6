// `callscope-demo-image PATH [--seed N]`: writes the SYNTHETIC demo image with CallScope's test-support
// builder. A separate executable so the released `callscope` binary does not contain the builder;
// scripts/demo runs this, then `callscope demo --image PATH`. The demo kernel mirrors ntoskrnl
// 10.0.19041.1415 (ntkrnlmp.pdb 3177D31000BA7590DED335936C93E374-1): symbol RVAs and struct layouts
// come from CallScope's bundled profile of that build.

import ArgumentParser
import Foundation
import ImageBuilder
import Symbols

@main
struct DemoImageWriter: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "callscope-demo-image",
    abstract: "Write CallScope's SYNTHETIC demo image (made by its builder, not memory of a real machine).")

  @Argument(help: "Where to write the image.")
  var path: String

  @Option(help: "Seed of the synthetic layout (DTB, KASLR base, self-map index).")
  var seed: UInt64 = 1

  /// SizeOfImage of ntoskrnl.exe 10.0.19041.1415 (its PE optional header).
  static let kernelSizeOfImage: UInt64 = 0xE0_4000
  /// The structs the demo writes from the profile (the callback records come from the builder's table).
  static let profileStructs =
    [
      "_LIST_ENTRY", "_UNICODE_STRING", "_KLDR_DATA_TABLE_ENTRY", "_EPROCESS", "_KPROCESS", "_KUSER_SHARED_DATA",
      "_OBJECT_TYPE",
    ] + DemoScenario.etwStructs

  func run() throws {
    let defaults = WindowsImageConfiguration(seed: seed)
    let identity = PDBIdentity(name: defaults.pdbName, guid: defaults.pdbGUID, age: defaults.pdbAge)
    guard let profile = try BundledProfiles.shipped().profile(for: identity) else {
      throw ValidationError("the bundled profiles lack \(identity), which the demo kernel mirrors")
    }
    let (build, layouts) = try Self.facts(from: profile)
    let builder = try WindowsImageBuilder.demo(seed: seed, build: build, layouts: layouts)
    try builder.writeRaw(to: path)
  }

  /// Symbol RVAs and struct layouts of `profile`, in the builder's terms.
  static func facts(from profile: any KernelProfile) throws -> (KernelBuildFacts, LayoutTable) {
    var symbols: [String: UInt64] = [:]
    for name in profile.symbolNames {
      if let info = profile.symbol(name) { symbols[name] = info.rva }
    }
    var layouts: [StructLayout] = []
    for name in profileStructs {
      guard let size = profile.structSize(name), let fields = profile.fields(of: name) else {
        throw ValidationError("the bundled profile has no layout of \(name), which the demo writes")
      }
      var table: [String: StructLayout.Field] = [:]
      for (field, info) in fields where info.bitLength == nil {
        // A member whose width is unknown is one the builder cannot write; it is left out, not sized 0.
        guard let width = width(info.type, profile: profile) else { continue }
        table[field] = .init(offset: info.offset, size: width)
      }
      layouts.append(StructLayout(name: name, size: size, fields: table))
    }
    return (KernelBuildFacts(sizeOfImage: kernelSizeOfImage, symbols: symbols), LayoutTable(layouts))
  }

  /// Bytes a field of `type` occupies, or nil when the profile does not say.
  static func width(_ type: FieldType, profile: any KernelProfile, depth: Int = 0) -> Int? {
    guard depth < 16 else { return nil }
    switch type {
    case .base(_, let size), .pointer(_, let size), .enumeration(_, let size): return size
    case .structure(let name): return profile.structSize(name)
    case .array(let element, let count):
      guard let one = width(element, profile: profile, depth: depth + 1) else { return nil }
      let (total, overflow) = one.multipliedReportingOverflow(by: count)
      return overflow ? nil : total
    case .function, .unknown: return nil
    }
  }
}
