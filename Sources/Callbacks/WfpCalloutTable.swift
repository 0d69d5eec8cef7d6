// netio's callout table: netio!gWfpGlobal points to the WFP global state, which holds the number of
// callout ids and a pointer to an array of callout entries indexed by callout id
// (FwpsCalloutRegister → netio!KfdAddCalloutEntry → FeAddCalloutEntry). None of it is in the public
// PDB's types: gWfpGlobal comes from netio.pdb's publics when the symbol path has it, else from the
// code of netio's exports; the member offsets are published facts for 19041, found by shape on
// other builds; every candidate is accepted only when the table's used entries call into modules.

import BinaryReading
import Symbols
import WindowsKernel

/// Where the callout table sits in the WFP global state, and the layout of its entries.
public struct WfpCalloutLayout: Sendable {
  /// In the global state: the ULONG count of ids (MaxCalloutId) and, after it, the table pointer.
  public var count, table: UInt64
  /// One callout entry.
  public var entry: CStructLayout
  /// What lent the offsets.
  public var basis: String

  /// A callout entry as FeAddCalloutEntry fills it on 10.0.19041 (0x50 bytes on x64): Kind (3:
  /// ClassifyFnFast is set instead of ClassifyFn), IsUsed, the three routines and the fast classify,
  /// Flags, the DEVICE_OBJECT; the table at gWfpGlobal+0x190/0x198. Source: an IDA and WinDbg
  /// walk-through of netio 19041 (anquanke.com/post/id/236134).
  static func entry19041(pointerSize: Int) -> CStructLayout {
    CStructLayout(
      "WFP_CALLOUT_ENTRY", pointerSize: pointerSize,
      [
        ("Kind", .u32), ("IsUsed", .u32), ("Reserved08", .u32), ("Reserved0C", .u32), ("ClassifyFn", .pointer),
        ("NotifyFn", .pointer), ("FlowDeleteFn", .pointer), ("ClassifyFnFast", .pointer), ("Flags", .u32),
        ("Reserved34", .u32), ("Reserved38", .u32), ("Reserved3C", .u32), ("DeviceObject", .pointer),
        ("Reserved48", .u8), ("Reserved49", .u8), ("Reserved4A", .u16), ("Reserved4C", .u32),
      ])
  }

  /// The published layout of x64 netio on `build`, or nil (the table is then looked for by shape).
  public static func declared(build: Int, pointerSize: Int) -> WfpCalloutLayout? {
    guard pointerSize == 8, (19041...19045).contains(build) else { return nil }
    return WfpCalloutLayout(
      count: 0x190, table: 0x198, entry: entry19041(pointerSize: pointerSize),
      basis: "declared for netio 19041–19045 (anquanke.com/post/id/236134)")
  }
}

/// The callout table located and validated.
public struct WfpCalloutTable: LocatedModuleVariable {
  public let module: LoadedModule
  /// netio!gWfpGlobal (the variable) and the state it points to.
  public let variable: UInt64
  public let state: UInt64
  public let layout: WfpCalloutLayout
  /// Entries read (MaxCalloutId, or fewer when the table is cut short) and the array.
  public let count: Int
  /// MaxCalloutId as the state holds it.
  public let declaredCount: Int
  public let array: UInt64
  public let provenance: Provenance
  public let evidence: [String]
  public var variableAddress: UInt64 { variable }

  /// Ids read at most (netio refuses ids above 100 000).
  static let idBound = 100_000
  /// Exports whose code reads gWfpGlobal.
  static let referringExports = ["FeGetWfpGlobalPtr", "KfdAddCalloutEntry", "KfdGetRefCallout", "KfdDeRefCallout"]

  /// Locates the table of `module` (netio.sys); `profile` is netio's own PDB when one was found.
  public static func locate(
    _ c: CallbackContext, module: LoadedModule, profile: (any KernelProfile)?
  ) throws(WindowsKernelError) -> WfpCalloutTable {
    let wanted = ModuleSymbolizer.identity(of: module, space: c.kernel.space).map { "\($0)" } ?? "netio.pdb"
    var tried: [String] = []
    var variables: [(UInt64, Provenance, [String])] = []
    if let symbol = profile?.symbol("gWfpGlobal"), let profile {
      variables = [
        (module.base &+ symbol.rva, .pdb, ["\(profile.identity): gWfpGlobal → RVA \(Hex.format(symbol.rva))"])
      ]
    } else {
      var seen = Set<UInt64>()
      for reference in ModuleCodeReference.gather(c, module: module, exports: referringExports, tried: &tried)
      where reference.reads && seen.insert(reference.target).inserted {
        variables.append((reference.target, .pattern, reference.chain))
      }
    }
    var found: [WfpCalloutTable] = []
    for (variable, provenance, chain) in variables {
      guard let state = c.pointer(variable), c.kernel.isKernelAddress(state), !module.contains(state) else {
        tried.append("\(Hex.format(variable)) holds no pointer to pool")
        continue
      }
      let layouts =
        WfpCalloutLayout.declared(build: c.build, pointerSize: c.kernel.pointerSize).map { [$0] }
        ?? shapeLayouts(c, state: state)
      for layout in layouts {
        switch validate(c, state: state, layout) {
        case .success(let (count, declared, array)):
          found.append(
            WfpCalloutTable(
              module: module, variable: variable, state: state, layout: layout, count: count,
              declaredCount: declared, array: array,
              provenance: provenance, evidence: chain + ["layout: \(layout.basis)"]))
        case .failure(let why):
          tried.append("gWfpGlobal candidate \(Hex.format(variable)): \(why)")
        }
      }
    }
    // One variable with one table placement, or it is ambiguous.
    let distinct = Dictionary(grouping: found) { "\(Hex.format($0.variable)) table +\(Hex.format($0.layout.table))" }
    guard distinct.count == 1, let table = found.first else {
      let why =
        found.isEmpty
        ? "no callout table" + (tried.isEmpty ? "" : "; tried: " + tried.prefix(8).joined(separator: "; "))
        : "\(distinct.count) candidates pass: " + distinct.keys.sorted().joined(separator: ", ")
      throw .notLocated(symbol: "gWfpGlobal", reason: why + "; \(wanted) on the symbol path settles it")
    }
    return table
  }

  /// Where the table may sit in a state of unknown layout: every pointer-aligned ULONG count
  /// followed by a pointer, with the 19041 entry layout (checked by `validate`).
  static func shapeLayouts(_ c: CallbackContext, state: UInt64) -> [WfpCalloutLayout] {
    stride(from: UInt64(0x100), to: 0x900, by: 8).compactMap { offset in
      guard let count = try? c.kernel.readUnsigned(state &+ offset, width: 4), count > 0, count <= UInt64(idBound),
        let array = c.pointer(state &+ offset &+ 8), c.kernel.isKernelAddress(array)
      else { return nil }
      return WfpCalloutLayout(
        count: offset, table: offset + 8, entry: WfpCalloutLayout.entry19041(pointerSize: c.kernel.pointerSize),
        basis: "found by shape: ids at +\(Hex.format(offset)), table at +\(Hex.format(offset + 8)); 19041 entry layout")
    }
  }

  /// The entries readable, MaxCalloutId and the array when the table holds: a readable array whose in-use flags are 0 or 1,
  /// with at least one entry in use and every used entry's classify routine non-null.
  static func validate(
    _ c: CallbackContext, state: UInt64, _ l: WfpCalloutLayout
  ) -> Result<(readable: Int, declared: Int, array: UInt64), WindowsKernelError> {
    let stateAt = Hex.format(state)
    guard let count = try? c.kernel.readUnsigned(state &+ l.count, width: 4), count <= UInt64(idBound) else {
      return .failure(
        .implausible(
          address: state &+ l.count, structure: "WFP callout count", detail: "unreadable or above \(idBound)"))
    }
    guard let array = c.pointer(state &+ l.table), c.kernel.isKernelAddress(array) else {
      return .failure(
        .implausible(
          address: state &+ l.table, structure: "WFP callout table", detail: "state \(stateAt): no table pointer"))
    }
    let e = l.entry
    guard let size = UInt64(exactly: e.size), let usedAt = try? e["IsUsed"], let kindAt = try? e["Kind"],
      let classifyAt = try? e["ClassifyFn"], let fastAt = try? e["ClassifyFnFast"]
    else { return .failure(.undeclaredMember(structName: e.name, member: "IsUsed/Kind/ClassifyFn")) }
    var used = 0
    for id in 0..<Int(count) {
      let entry = array &+ UInt64(id) &* size
      guard let flag = try? c.kernel.readUnsigned(entry &+ usedAt, width: 4) else {
        // A table cut short (a count past its end): the entries before the cut stand if some are used.
        guard used > 0 else {
          return .failure(.implausible(address: entry, structure: "WFP callout entry \(id)", detail: "unreadable"))
        }
        return .success((id, Int(count), array))
      }
      guard flag <= 1 else {
        return .failure(
          .implausible(address: entry, structure: "WFP callout entry \(id)", detail: "in-use flag \(flag) is not 0/1"))
      }
      guard flag == 1 else { continue }
      guard let kind = try? c.kernel.readUnsigned(entry &+ kindAt, width: 4) else {
        return .failure(.implausible(address: entry, structure: "WFP callout entry \(id)", detail: "kind unreadable"))
      }
      guard let classify = c.pointer(entry &+ (kind == 3 ? fastAt : classifyAt)), classify != 0 else {
        return .failure(
          .implausible(address: entry, structure: "WFP callout entry \(id)", detail: "used, but no classify routine"))
      }
      used += 1
    }
    guard used > 0 else {
      return .failure(
        .implausible(address: array, structure: "WFP callout table", detail: "no entry of \(count) in use"))
    }
    return .success((Int(count), Int(count), array))
  }
}
