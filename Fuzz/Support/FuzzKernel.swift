// A Kernel over a HostileSpace: structure layouts from a bundled Windows 10 x64 profile, kernel
// variables (list heads) placed at fixed small offsets of the input, so the walkers read heads,
// entries and strings that the fuzzer controls.

import AddressSpace
import Symbols
import WindowsKernel

/// The bundled profile's layouts with symbols moved into the input's first page.
struct FuzzProfile: KernelProfile {
  let layouts: any KernelProfile
  /// Kernel variables and where in the input they are.
  var symbols = FuzzProfile.listHeads
  var identity: PDBIdentity { layouts.identity }
  var source: Provenance { .bundled }
  var sourceDescription: String { "fuzz" }

  /// The list heads the walkers start from, and where in the input they are.
  static let listHeads: [String: UInt64] = [
    "PsActiveProcessHead": 0x00, "PsLoadedModuleList": 0x10, "KiProcessListHead": 0x20,
    "PspCidTable": 0x30, "MmUserProbeAddress": 0x38, "KeNumberProcessors": 0x40,
  ]

  func symbol(_ name: String) -> SymbolInfo? {
    symbols[name].map { SymbolInfo(name: name, rva: $0, provenance: .bundled) }
  }
  func structSize(_ name: String) -> Int? { layouts.structSize(name) }
  func field(_ structName: String, _ fieldName: String) -> FieldInfo? { layouts.field(structName, fieldName) }
  func enumeration(_ name: String) -> [String: Int64]? { layouts.enumeration(name) }
  var symbolNames: [String] { Array(symbols.keys) }
  var structNames: [String] { layouts.structNames }
  func fields(of structName: String) -> [String: FieldInfo]? { layouts.fields(of: structName) }
}

enum FuzzKernel {
  /// The layouts of the first bundled x64 Windows 10 19041 kernel (loaded once).
  static let layouts: any KernelProfile = {
    guard let bundle = try? BundledProfiles.shipped() else { fatalError("bundled profiles not found") }
    let x64 = bundle.builds.filter { $0.machine == 0x8664 }
    guard let build = x64.first(where: { $0.version?.contains("19041") == true }) ?? x64.first,
      let profile = try? bundle.profile(for: build.identity)
    else { fatalError("no x64 bundled profile") }
    return profile
  }()

  /// A kernel whose image (and `symbols`) start at HostileSpace.kernelBase.
  static func kernel(_ input: [UInt8], symbols: [String: UInt64] = FuzzProfile.listHeads) -> Kernel {
    let image = KernelImage(
      base: HostileSpace.kernelBase, size: UInt64(max(input.count, 1)), pdb: layouts.identity,
      pdbPath: "fuzz.pdb", fileVersion: nil, machine: 0x8664, timeDateStamp: 0)
    return Kernel(
      space: HostileSpace.space(input), image: image, profile: FuzzProfile(layouts: layouts, symbols: symbols))
  }
}
