// The kernel `trace` breaks in: its profile and KeUserModeCallback's address. The profile is the
// symbol file matching the PDB identity in ntoskrnl's CodeView record, unless `--no-symbols`; without
// one (or with the flag) it is the symbol-less profile the image commands use (ProfileResolution:
// layouts lent by a bundled build of the release, addresses located from exports and code), which
// needs a page walk of its own: through the `--ram` file, else physical reads through the stub. The
// breakpoint goes on the profile's KeUserModeCallback RVA, else on the kernel's export of that name.

import AddressSpace
import GDBRemote
import PortableExecutable
import Symbols
import WindowsKernel

/// The traced kernel.
struct TraceKernel {
  var profile: any KernelProfile
  /// nt!KeUserModeCallback.
  var breakpoint: UInt64
  /// `profile` or `export`: where the breakpoint address came from.
  var breakpointSource: String
  /// Why no symbol file was used (nil when one was).
  var symbolLess: String?

  /// `--no-symbols` given: no symbol file is looked for.
  enum SymbolLessReason: Error { case asked }

  /// Identifies the kernel at `base` and resolves its profile and breakpoint.
  static func find(
    base: UInt64, memory: TraceMemory, cr3: Result<UInt64, any Error>, symbols: SymbolOptions
  ) throws -> TraceKernel {
    let name = "ntoskrnl @ 0x\(String(base, radix: 16))"
    let source = TraceModuleSource(memory: memory, base: base, size: 0x4000_0000, sourceName: name)
    let pe: PEImage
    do { pe = try PEImage(source: source, layout: .mapped) } catch {
      throw TraceError.kernel("no PE image at 0x\(String(base, radix: 16)): \(error)")
    }
    guard let cv = try? pe.codeView() else {
      throw TraceError.kernel("the image at 0x\(String(base, radix: 16)) has no readable CodeView (RSDS) record")
    }
    let identity = PDBIdentity(name: cv.pdbFileName, guid: cv.guidString, age: cv.age)
    var profile: any KernelProfile
    var symbolLess: String?
    do {
      guard !symbols.noSymbols else { throw SymbolLessReason.asked }
      profile = try ProfileResolution.load(identity: identity, options: symbols)
    } catch {
      symbolLess = error is SymbolLessReason ? "--no-symbols" : "\(error)"
      profile = try located(base: base, memory: memory, cr3: cr3, symbols: symbols)
    }
    if let symbol = profile.symbol("KeUserModeCallback") {
      return TraceKernel(
        profile: profile, breakpoint: base &+ symbol.rva, breakpointSource: "profile", symbolLess: symbolLess)
    }
    if let exports = try? pe.exports(), let entry = exports.entry(named: "KeUserModeCallback"), !entry.isForwarder {
      return TraceKernel(
        profile: profile, breakpoint: base &+ UInt64(entry.rva), breakpointSource: "export", symbolLess: symbolLess)
    }
    throw TraceError.missingLayout("KeUserModeCallback (symbol or export)", profile: profile.sourceDescription)
  }

  /// The symbol-less profile of the kernel at `base`, walked through the RAM file or the stub.
  static func located(
    base: UInt64, memory: TraceMemory, cr3: Result<UInt64, any Error>, symbols: SymbolOptions
  ) throws -> any KernelProfile {
    var options = symbols
    options.noSymbols = true  // the symbol file was tried (or refused) already
    if let ram = memory.ram { return try profile(in: ram.space, base: base, options: options) }
    let dtb: UInt64
    do { dtb = try cr3.get() } catch {
      throw TraceError.kernel("the stub gives no cr3 (\(error)); the symbol-less profile walks the page tables from it")
    }
    let mode = try TraceRAM.pagingMode(memory.client)
    let physical = try TraceStubPhysicalMemory(client: memory.client)
    let result: Result<any KernelProfile, any Error>
    do {
      let space = VirtualAddressSpace(memory: physical, dtb: dtb, mode: mode)
      result = .success(try profile(in: space, base: base, options: options))
    } catch { result = .failure(error) }
    try physical.finish()  // must hold: every later read is virtual
    return try result.get()
  }

  static func profile(in space: VirtualAddressSpace, base: UInt64, options: SymbolOptions) throws -> any KernelProfile {
    let image: KernelImage
    do { image = try KernelLocator.validate(space: space, base: base) } catch {
      throw TraceError.kernel("no kernel image at 0x\(String(base, radix: 16)) for the symbol-less profile: \(error)")
    }
    return try ProfileResolution.kernelProfile(space: space, image: image, version: nil, options: options).profile
  }
}
