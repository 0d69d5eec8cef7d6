// `callscope demo`: writes the bundled SYNTHETIC demo image (CallScope's own test-support builder)
// and runs the main job on it, so a fresh checkout shows the tool working without real data. The
// demo kernel mirrors ntoskrnl 10.0.19041.1415 (ntkrnlmp.pdb 3177D31000BA7590DED335936C93E374-1):
// symbol RVAs and struct layouts come from CallScope's bundled profile of that build.

import ArgumentParser
import Foundation
import ImageBuilder
import MemoryImage
import Reports
import Symbols
import WindowsKernel

struct DemoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "Write the synthetic demo image and run CallScope on it.",
    discussion: "The image is synthesised by CallScope's own builder; it is not memory of a real machine.")

  @Option(name: .customLong("image"), help: "Where to write the demo image (default: a temporary file, removed after).")
  var imagePath: String?

  @Option(help: "Seed of the synthetic layout (DTB, KASLR base, self-map index).")
  var seed: UInt64 = 1

  /// SizeOfImage of ntoskrnl.exe 10.0.19041.1415 (its PE optional header).
  static let kernelSizeOfImage: UInt64 = 0xE0_4000
  /// The structs the demo writes from the profile (the callback records come from the builder's table).
  static let profileStructs = [
    "_LIST_ENTRY", "_UNICODE_STRING", "_KLDR_DATA_TABLE_ENTRY", "_EPROCESS", "_KPROCESS", "_KUSER_SHARED_DATA",
    "_OBJECT_TYPE",
  ]

  func run() throws {
    let path = imagePath ?? NSTemporaryDirectory() + "callscope-demo-\(ProcessInfo.processInfo.processIdentifier).raw"
    let defaults = WindowsImageConfiguration(seed: seed)
    let identity = PDBIdentity(name: defaults.pdbName, guid: defaults.pdbGUID, age: defaults.pdbAge)
    guard let profile = try BundledProfiles.shipped().profile(for: identity) else {
      throw ValidationError("the bundled profiles lack \(identity), which the demo kernel mirrors")
    }
    let (build, layouts) = Self.facts(from: profile)
    let builder = try WindowsImageBuilder.demo(seed: seed, build: build, layouts: layouts)
    try builder.writeRaw(to: path)
    defer { if imagePath == nil { try? FileManager.default.removeItem(atPath: path) } }
    let out = Terminal.standardOutput
    out.write("== SYNTHETIC demo image (written by CallScope's builder, not a real machine): \(path)\n\n")
    let memory = try MemoryImageOpener.open(path: path)
    let system = try KernelDiscovery.discover(memory: memory)
    let report = InfoReport(memory: memory, system: system, synthetic: true)
    out.write("$ callscope info \(path)\n" + report.table)
    out.write("\n== SYNTHETIC callbacks (four made-up drivers and one planted anomaly)\n\n")
    out.write("$ callscope callbacks --offline \(path)\n")
    var callbacks = try CallbacksCommand.parse([path, "--offline"])
    try callbacks.run()
  }

  /// Symbol RVAs and struct layouts of `profile`, in the builder's terms.
  static func facts(from profile: any KernelProfile) -> (KernelBuildFacts, LayoutTable) {
    var symbols: [String: UInt64] = [:]
    for name in profile.symbolNames {
      if let info = profile.symbol(name) { symbols[name] = info.rva }
    }
    var layouts: [StructLayout] = []
    for name in profileStructs {
      guard let size = profile.structSize(name), let fields = profile.fields(of: name) else { continue }
      var table: [String: StructLayout.Field] = [:]
      for (field, info) in fields where info.bitLength == nil {
        table[field] = .init(offset: info.offset, size: width(info.type, profile: profile))
      }
      layouts.append(StructLayout(name: name, size: size, fields: table))
    }
    return (KernelBuildFacts(sizeOfImage: kernelSizeOfImage, symbols: symbols), LayoutTable(layouts))
  }

  /// Bytes a field of `type` occupies (0 when unknown), for the builder's integer writes.
  static func width(_ type: FieldType, profile: any KernelProfile, depth: Int = 0) -> Int {
    guard depth < 16 else { return 0 }
    switch type {
    case .base(_, let size), .pointer(_, let size), .enumeration(_, let size): return size
    case .structure(let name): return profile.structSize(name) ?? 0
    case .array(let element, let count):
      let (total, overflow) = width(element, profile: profile, depth: depth + 1).multipliedReportingOverflow(by: count)
      return overflow ? 0 : total
    case .function, .unknown: return 0
    }
  }
}
