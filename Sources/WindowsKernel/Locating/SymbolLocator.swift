// Finds the kernel's variables without a symbol file: data exports from the export table, every
// other variable by walking the code of the exports that use it (HeadRecipe) and accepting a
// candidate only after its shape is checked in memory. The result is a LocatedProfile whose
// layouts a bundled build of the same release lends; every answer keeps its chain as evidence.

import AddressSpace
import BinaryReading
import Disassembly
import PortableExecutable
import Symbols

/// Locates kernel variables from exports and code.
public enum SymbolLocator {
  /// Exported data the kernel model and the families read directly (absent ones are skipped).
  public static let dataExports: [String] = [
    "PsLoadedModuleList", "PsInitialSystemProcess", "PsProcessType", "PsThreadType", "ExDesktopObjectType",
    "ExCallbackObjectType", "IoDriverObjectType", "IoDeviceObjectType", "IoFileObjectType", "ExEventObjectType",
    "KeServiceDescriptorTable", "NtBuildNumber", "KeNumberProcessors", "MmSystemRangeStart", "MmHighestUserAddress",
    "MmUserProbeAddress", "KdDebuggerEnabled", "SeExports", "PsNtosImageBase", "PsHalImageBase", "HalDispatchTable",
  ]

  /// Locates every recipe's variable in the kernel at `image` of `space`, with layouts from
  /// `layouts` (described by `layoutSource`).
  public static func locate(
    space: VirtualAddressSpace, image: KernelImage, layouts: any KernelProfile, layoutSource: String, build: Int,
    recipes: [HeadRecipe], limits: CodeWalkLimits = .standard
  ) -> LocatedProfile {
    var located: [LocatedSymbol] = []
    var failures: [LocatorFailure] = []
    let source = VirtualByteSource(space: space, base: image.base, size: image.size, name: "ntoskrnl in memory")
    let pe: PEImage
    let exports: PEExports
    do {
      pe = try PEImage(source: source, layout: .mapped)
      exports = try pe.exports()
    } catch {
      let reason = "ntoskrnl's export table at \(Hex.format(image.base)) is unreadable: \(error)"
      return LocatedProfile(
        identity: image.pdb, layouts: layouts, layoutSource: layoutSource, located: [],
        failures: (dataExports + recipes.map(\.symbol)).map { LocatorFailure(name: $0, reason: reason) })
    }
    let exportRVAs = KernelExports(exports).rvaByName
    let sections = pe.sections
    func sectionName(_ rva: UInt64) -> String? {
      sections.first {
        rva >= UInt64($0.virtualAddress)
          && rva - UInt64($0.virtualAddress) < UInt64(max($0.virtualSize, $0.sizeOfRawData))
      }?.name
    }
    var known: [SymbolInfo] = []
    for name in dataExports {
      guard let rva = exportRVAs[name] else { continue }
      guard rva < image.size, let section = sectionName(rva) else {
        failures.append(
          LocatorFailure(name: name, reason: "exported at RVA \(Hex.format(rva)), outside the image's sections"))
        continue
      }
      known.append(SymbolInfo(name: name, rva: rva, provenance: .export))
      located.append(
        LocatedSymbol(
          name: name, rva: rva, provenance: .export,
          evidence: ["export table: \(name) → RVA \(Hex.format(rva)) (\(section))"]))
    }
    let pre = Kernel(
      space: space, image: image, profile: LayoutOnlyProfile(identity: image.pdb, layouts: layouts, known: known))
    let modules = (try? ModuleList.read(pre))?.modules ?? []
    let context = LocatorContext(
      kernel: pre, layouts: layouts, known: known, modules: modules, sections: sections, build: build)
    let architecture: Architecture = space.pointerSize == 8 ? .x64 : .x86
    let walker: CodeWalker
    do {
      walker = try CodeWalker(
        architecture: architecture, limits: limits, readPage: { try? space.read($0, count: 0x1000) },
        mayEnter: { context.isKernelCode($0) })
    } catch {
      for recipe in recipes { failures.append(LocatorFailure(name: recipe.symbol, reason: "\(error)")) }
      return LocatedProfile(
        identity: image.pdb, layouts: layouts, layoutSource: layoutSource, located: located, failures: failures)
    }
    var walks: [String: CodeWalk] = [:]
    func walk(_ export: String) -> CodeWalk? {
      if let w = walks[export] { return w }
      guard let rva = exportRVAs[export], rva < image.size else { return nil }
      let w = walker.walk(from: image.base &+ rva)
      walks[export] = w
      return w
    }
    var done: Set<String> = Set(located.map(\.name))
    var pending = recipes.filter { !done.contains($0.symbol) }
    // Recipes run once their `after` symbols are settled; a cycle in `after` runs what is left as is.
    while !pending.isEmpty {
      let pendingNames = Set(pending.map(\.symbol))
      let readyIndex = pending.firstIndex { r in r.after.allSatisfy { !pendingNames.contains($0) } } ?? 0
      let recipe = pending.remove(at: readyIndex)
      done.insert(recipe.symbol)
      let outcome = run(recipe, context: context, walk: walk, exportRVAs: exportRVAs)
      switch outcome {
      case .success(let symbol):
        located.append(symbol)
        context.record(SymbolInfo(name: symbol.name, rva: symbol.rva, provenance: symbol.provenance))
      case .failure(let failure):
        failures.append(failure)
      }
    }
    return LocatedProfile(
      identity: image.pdb, layouts: layouts, layoutSource: layoutSource, located: located, failures: failures)
  }

  private struct Candidate {
    var address: UInt64
    var evidence: [String]
    /// Some reference reads or writes the value (not only `lea`).
    var accessed = false
  }

  private static func run(
    _ recipe: HeadRecipe, context: LocatorContext, walk: (String) -> CodeWalk?, exportRVAs: [String: UInt64]
  ) -> Result<LocatedSymbol, LocatorFailure> {
    let primary = run(recipe, source: recipe.source, context: context, walk: walk, exportRVAs: exportRVAs)
    guard case .failure(let first) = primary, let fallback = recipe.fallback else { return primary }
    switch run(recipe, source: fallback, context: context, walk: walk, exportRVAs: exportRVAs) {
    case .success(let symbol):
      return .success(
        LocatedSymbol(
          name: symbol.name, rva: symbol.rva, provenance: symbol.provenance,
          evidence: symbol.evidence + ["(code pattern failed first: \(first.reason))"]))
    case .failure(let second):
      return .failure(
        LocatorFailure(
          name: recipe.symbol, reason: "\(first.reason); then: \(second.reason)",
          candidates: first.candidates + second.candidates))
    }
  }

  private static func run(
    _ recipe: HeadRecipe, source: RecipeSource, context: LocatorContext, walk: (String) -> CodeWalk?,
    exportRVAs: [String: UInt64]
  ) -> Result<LocatedSymbol, LocatorFailure> {
    var candidates: [Candidate] = []
    switch source {
    case .derived(let derive):
      candidates = derive(context).map { Candidate(address: $0.address, evidence: [$0.evidence]) }
      if candidates.isEmpty {
        return .failure(LocatorFailure(name: recipe.symbol, reason: "the data it is derived from is not available"))
      }
    case .code(let exports, let filter, let condition):
      let present = exports.filter { exportRVAs[$0] != nil }
      guard !present.isEmpty else {
        return .failure(
          LocatorFailure(
            name: recipe.symbol,
            reason:
              "no export that references it is in the export table (looked for \(exports.joined(separator: ", ")))"))
      }
      var stops: [String] = []
      var references = 0
      // With a dispatch value, the references on that value's path; when the code has no such
      // dispatch (one path reaches every head), every reference, left to the shape check to tell apart.
      for onPath in condition == nil ? [false] : [true, false] {
        var seen: Set<UInt64> = []
        for export in present {
          guard let w = walk(export) else {
            if !onPath, let rva = exportRVAs[export] {
              stops.append("\(export): exported at RVA \(Hex.format(rva)), outside the image")
            }
            continue
          }
          if !onPath { stops += w.stops.prefix(3).map { "\(export): \($0)" } }
          for ref in w.references {
            references += 1
            guard accepts(filter, ref), !onPath || ref.condition == condition else { continue }
            let target = ref.target
            guard target % recipe.alignment == 0, context.isKernelData(target) else { continue }
            guard seen.insert(target).inserted else {
              if !ref.memory.addressOnly, let i = candidates.firstIndex(where: { $0.address == target }) {
                candidates[i].accessed = true
              }
              continue
            }
            var evidence = chain(export, walk: w, ref: ref, base: context)
            if condition != nil && !onPath {
              evidence.append("no dispatch on the value in the code: candidate of any path")
            }
            candidates.append(Candidate(address: target, evidence: evidence, accessed: !ref.memory.addressOnly))
          }
        }
        if !candidates.isEmpty { break }
      }
      guard !candidates.isEmpty else {
        let why = stops.isEmpty ? "" : "; walk stops: " + stops.prefix(4).joined(separator: "; ")
        return .failure(
          LocatorFailure(
            name: recipe.symbol,
            reason:
              "the code of \(present.joined(separator: ", ")) references no kernel data that qualifies "
              + "(\(references) references seen\(condition.map { ", dispatch value \(Hex.format(UInt64(bitPattern: $0)))" } ?? ""))\(why)"
          ))
      }
    }
    var accepted: [(Candidate, ShapeStrength, String)] = []
    var tried: [String] = []
    for c in candidates {
      switch recipe.validate(c.address, context) {
      case .accepted(let strength, let detail):
        accepted.append((c, strength, detail))
        tried.append("\(Hex.format(c.address)) (\(c.evidence.first ?? "")): passes (\(detail))")
      case .rejected(let why):
        tried.append("\(Hex.format(c.address)) (\(c.evidence.last ?? "")): \(why)")
      }
    }
    guard let best = accepted.map(\.1).max() else {
      return .failure(
        LocatorFailure(
          name: recipe.symbol, reason: "every candidate (\(candidates.count)) failed its shape check", candidates: tried
        ))
    }
    var top = accepted.filter { $0.1 == best }
    // A free lock and an empty singly linked list are both a null pointer; the code tells them
    // apart: a lock's address is only taken (passed to the acquire routine), a list head's value
    // is loaded and stored. Among equal candidates, the one value-accessed wins.
    var tieBreak: String?
    if top.count > 1, case let accessed = top.filter({ $0.0.accessed }), accessed.count == 1 {
      tieBreak = "preferred over \(top.count - 1) equal candidate(s) whose address is only taken (lea)"
      top = accessed
    }
    guard top.count == 1, let (winner, _, detail) = top.first else {
      return .failure(
        LocatorFailure(
          name: recipe.symbol, reason: "\(top.count) candidates pass the shape check equally; none is trusted",
          candidates: tried))
    }
    var evidence = winner.evidence
    evidence.append("shape: \(detail)")
    if let tieBreak { evidence.append(tieBreak) }
    if accepted.count > 1 && tieBreak == nil {
      evidence.append("preferred over \(accepted.count - 1) weaker candidate(s)")
    }
    let rva = winner.address &- context.kernel.image.base  // candidates lie inside the image (isKernelData)
    return .success(LocatedSymbol(name: recipe.symbol, rva: rva, provenance: .pattern, evidence: evidence))
  }

  private static func accepts(_ filter: ReferenceFilter, _ ref: CodeReference) -> Bool {
    let m = ref.instruction.mnemonic
    switch filter {
    case .any: return true
    case .addressOrAccess: return ref.memory.addressOnly || m.hasPrefix("mov")
    case .lockedUpdate: return ref.instruction.isLocked && ref.memory.writes
    case .load: return !ref.memory.addressOnly && ref.memory.reads && m.hasPrefix("mov")
    case .dwordAccess:
      return ref.memory.size == 4 && !ref.memory.addressOnly && !m.hasPrefix("cmp") && !m.hasPrefix("test")
    }
  }

  private static func chain(_ export: String, walk: CodeWalk, ref: CodeReference, base context: LocatorContext)
    -> [String]
  {
    var lines = ["export \(export) at \(Hex.format(walk.entry))"]
    for hop in ref.hops {
      lines.append("\(hop.kind.rawValue) at \(Hex.format(hop.instruction)) → \(Hex.format(hop.target))")
    }
    var line = "\(Hex.format(ref.instruction.address)): \(ref.instruction.text) → \(Hex.format(ref.target))"
    if let c = ref.condition { line += " (on the path where a compared value is \(Hex.format(UInt64(bitPattern: c))))" }
    lines.append(line)
    return lines
  }
}
