// fltmgr!FltGlobals, the root of every registered minifilter: from fltmgr's PDB when the symbol path
// has it; otherwise from the code of fltmgr's exports (FltEnumerateFilters and its siblings take
// the frame list's resource: a rip-relative operand into FltGlobals), and last from fltmgr's data by
// shape. A candidate counts only when its frame list holds frames whose registered filters point
// back to their frame — an arrangement no other data in fltmgr has.

import AddressSpace
import BinaryReading
import Symbols
import WindowsKernel

/// FltGlobals located and validated, with the layout it was read with.
public struct FilterManagerGlobals: LocatedModuleVariable {
  /// fltmgr.sys as PsLoadedModuleList lists it.
  public let module: LoadedModule
  public let layout: FilterManagerLayout
  /// FltGlobals.
  public let address: UInt64
  /// The frames (_FLTP_FRAME addresses) of its frame list, in list order.
  public let frames: [UInt64]
  /// `pdb` (fltmgr's symbol file) or `pattern` (code or data of fltmgr, shape checked).
  public let provenance: Provenance
  /// How it was found (`--explain`).
  public let evidence: [String]
  public var variableAddress: UInt64 { address }

  /// Frames, filters per frame: bounds of a smeared or hostile frame list.
  static let frameBound = 16
  static let filterBound = 1024

  /// Exports of fltmgr whose code takes FltGlobals.FrameList (x64 Windows 10 and 11).
  static let referringExports = [
    "FltEnumerateFilters", "FltGetFilterFromName", "FltEnumerateVolumes", "FltGetVolumeFromName",
    "FltEnumerateFilterInformation",
  ]

  /// Locates FltGlobals in `module`; `profile` is fltmgr's own PDB when one was found.
  public static func locate(
    _ c: CallbackContext, module: LoadedModule, profile: (any KernelProfile)?
  ) throws(WindowsKernelError) -> FilterManagerGlobals {
    if let profile {
      let layout = try FilterManagerLayout(pdb: profile)
      guard let symbol = profile.symbol("FltGlobals") else {
        throw .notLocated(symbol: "FltGlobals", reason: "not in \(profile.identity)")
      }
      let address = module.base &+ symbol.rva
      guard let frames = frames(c, globals: address, layout) else {
        throw .implausible(
          address: address, structure: "FltGlobals", detail: "its FrameList holds no frame whose filters point back")
      }
      return FilterManagerGlobals(
        module: module, layout: layout, address: address, frames: frames, provenance: .pdb,
        evidence: ["\(profile.identity): FltGlobals → RVA \(Hex.format(symbol.rva))"])
    }
    // The exact PDB to fetch: name, GUID and age from fltmgr's CodeView record.
    let wanted = ModuleSymbolizer.identity(of: module, space: c.kernel.space).map { "\($0)" } ?? "fltmgr.pdb"
    guard let layout = FilterManagerLayout.declared(build: c.build, pointerSize: c.kernel.pointerSize) else {
      throw .notLocated(
        symbol: "FltGlobals",
        reason: "no published fltmgr layout for build \(c.build); put \(wanted) on the symbol path")
    }
    var tried: [String] = []
    // Each passing candidate with its evidence and the frames its check read (not read again).
    var found: [UInt64: (evidence: [String], frames: [UInt64])] = [:]
    for (candidate, evidence) in codeCandidates(c, module: module, layout: layout, tried: &tried)
    where found[candidate] == nil {
      if let frames = frames(c, globals: candidate, layout) { found[candidate] = (evidence, frames) }
    }
    var provenanceNote = "code of fltmgr's exports"
    if found.isEmpty {
      provenanceNote = "fltmgr's data, by shape"
      for candidate in dataCandidates(c, module: module, layout: layout) where found[candidate] == nil {
        if let frames = frames(c, globals: candidate, layout) {
          found[candidate] = (
            ["content of fltmgr.sys: a frame list at \(Hex.format(candidate &+ layout.framesInGlobals))"], frames
          )
        }
      }
    }
    guard found.count == 1, let (address, (evidence, frames)) = found.first
    else {
      let why =
        found.isEmpty
        ? "no frame list in \(provenanceNote)" + (tried.isEmpty ? "" : "; tried: " + tried.joined(separator: "; "))
        : "\(found.count) candidates pass: " + found.keys.sorted().map { Hex.format($0) }.joined(separator: ", ")
      throw .notLocated(symbol: "FltGlobals", reason: why + "; \(wanted) on the symbol path settles it")
    }
    return FilterManagerGlobals(
      module: module, layout: layout, address: address, frames: frames, provenance: .pattern,
      evidence: evidence + ["layout: \(layout.basis)"])
  }

  /// FltGlobals candidates from the rip-relative operands of the referring exports' code: the
  /// operand is FltGlobals.FrameList (the resource the code acquires), its rList, or FltGlobals itself.
  static func codeCandidates(
    _ c: CallbackContext, module: LoadedModule, layout: FilterManagerLayout, tried: inout [String]
  ) -> [(UInt64, [String])] {
    var candidates: [(UInt64, [String])] = []
    for reference in ModuleCodeReference.gather(c, module: module, exports: referringExports, tried: &tried) {
      for back in [layout.framesInGlobals, layout.framesInGlobals &+ layout.resourceList, 0]
      where reference.target >= back {
        candidates.append((reference.target &- back, reference.chain))
      }
    }
    return candidates
  }

  /// FltGlobals candidates from fltmgr's pages: every pointer-aligned LIST_ENTRY whose Flink's Blink
  /// comes back to it, taken as the frame list (the full shape check follows).
  static func dataCandidates(_ c: CallbackContext, module: LoadedModule, layout: FilterManagerLayout) -> [UInt64] {
    let back = layout.framesInGlobals &+ layout.resourceList
    var candidates: [UInt64] = []
    var page = module.base
    let end = module.base &+ min(module.size, 0x40_0000)  // fltmgr is well under 4 MiB
    while page < end {
      defer { page &+= 0x1000 }
      guard let bytes = try? c.kernel.space.read(page, count: 0x1000) else { continue }
      for (index, flink) in ByteCursor(bytes).words(width: 8).enumerated() {
        let here = page &+ UInt64(index) &* 8
        guard flink >> 47 == 0x1FFFF, flink != here, !module.contains(flink), here >= module.base &+ back,
          c.pointer(flink &+ 8) == here
        else { continue }
        candidates.append(here &- back)
      }
    }
    return candidates
  }

  /// The frames of the FltGlobals at `globals` when its shape holds: a non-empty frame list whose
  /// frames each have a filter list whose filters all name that frame; nil otherwise.
  static func frames(_ c: CallbackContext, globals: UInt64, _ l: FilterManagerLayout) -> [UInt64]? {
    let head = globals &+ l.framesInGlobals &+ l.resourceList
    let walk = c.list(head, what: "FltGlobals.FrameList", bound: frameBound)
    guard walk.warning == nil, !walk.entries.isEmpty else { return nil }
    let frames = walk.entries.map { $0 &- l.frameLinks }
    for frame in frames {
      let filters = c.list(frame &+ l.frameFilters &+ l.resourceList, what: "frame filters", bound: filterBound)
      guard filters.warning == nil else { return nil }
      for link in filters.entries {
        guard c.pointer(link &- l.primaryLink &+ l.filterFrame) == frame else { return nil }
      }
    }
    return frames
  }
}
