// The minifilter family: every file-system minifilter registered with the filter manager
// (FltRegisterFilter), by frame: the filter's FLT_OPERATION_REGISTRATION array (pre- and
// post-operation routine per major function), the FLT_REGISTRATION routines copied into _FLT_FILTER
// (unload, instance setup and teardown, name providers), and per attached instance the
// _CALLBACK_NODEs the filter manager actually calls. EDR-blinding tools (EDRSandblast and its kin)
// unlink an EDR's callback nodes from the volumes' operation lists: the registration still reads
// as before, so a node that no list holds any more is flagged on its registration
// (`operation-unlinked`), and a node that calls another routine than the registration is its own
// row (`callback-node-replaced`). Owner by design: the filter's own driver image.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// Minifilters: fltmgr!FltGlobals → frames → filters → operations and instances' callback nodes.
  public static let minifilter = FamilyDescriptor(
    id: "minifilter", title: "File-system minifilters (pre/post operation routines, instance callback nodes)",
    registration: "FltRegisterFilter + FltStartFiltering",
    heads: [FamilyHead("FltGlobals", .module("fltmgr.sys"))],
    structs: ["_DRIVER_OBJECT"],
    builds: 6000...Int.max,
    rules: [MinifilterReader.unlinked, MinifilterReader.replaced],
    reader: MinifilterReader())
}

/// Reads every registered minifilter of every filter-manager frame.
public struct MinifilterReader: CallbackFamily {
  public var ids: [String] { ["minifilter"] }
  public init() {}

  /// A callback node of an attached instance is in no operation list: the filter manager no longer calls it.
  public static let unlinked = VerdictRule(
    "operation-unlinked", .high,
    "a minifilter's callback node is unlinked from the volume's operation list: the operation is silently skipped")
  /// A callback node calls another routine than its filter registered for that operation.
  public static let replaced = VerdictRule(
    "callback-node-replaced", .high,
    "an instance's callback node calls a routine its filter did not register for that operation")

  /// FLT_OPERATION_REGISTRATION (fltKernel.h, x64): MajorFunction (UCHAR), Flags (ULONG) at 4,
  /// PreOperation at 8, PostOperation at 0x10, Reserved1; 0x20 bytes; ends with IRP_MJ_OPERATION_END.
  static let registrationSize: UInt64 = 0x20
  static let operationEnd: UInt8 = 0x80
  /// Entries read at most per registration array (there are 50 operations).
  static let registrationBound = 64
  /// Instances read at most per filter (one per attached volume).
  static let instanceBound = 4096

  /// fltKernel.h's names of the filter manager's own (negative) major functions, by value.
  static let internalNames: [Int: String] = [
    -1: "IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION", -2: "IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION",
    -3: "IRP_MJ_ACQUIRE_FOR_MOD_WRITE", -4: "IRP_MJ_RELEASE_FOR_MOD_WRITE", -5: "IRP_MJ_ACQUIRE_FOR_CC_FLUSH",
    -6: "IRP_MJ_RELEASE_FOR_CC_FLUSH", -7: "IRP_MJ_QUERY_OPEN", -13: "IRP_MJ_FAST_IO_CHECK_IF_POSSIBLE",
    -14: "IRP_MJ_NETWORK_QUERY_OPEN", -15: "IRP_MJ_MDL_READ", -16: "IRP_MJ_MDL_READ_COMPLETE",
    -17: "IRP_MJ_PREPARE_MDL_WRITE", -18: "IRP_MJ_MDL_WRITE_COMPLETE", -19: "IRP_MJ_VOLUME_MOUNT",
    -20: "IRP_MJ_VOLUME_DISMOUNT",
  ]

  /// The name of major function `value` (IRP_MJ_* or the filter manager's own), or its number.
  public static func operationName(_ value: Int) -> String {
    if value >= 0, value < IrpDispatchReader.majorFunctionNames.count {
      return IrpDispatchReader.majorFunctionNames[value]
    }
    return internalNames[value] ?? "IRP_MJ_\(value)"
  }

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    switch c.loadedModule("fltmgr.sys", for: "minifilter") {
    case .success(let (fltmgr, modules)): return [read(c, fltmgr: fltmgr, modules: modules)]
    case .failure(let missing): return [missing.result]
    }
  }

  /// The minifilters of the filter manager `fltmgr` (its loader entry); `modules` own the filters' drivers.
  public func read(_ c: CallbackContext, fltmgr: LoadedModule, modules: [LoadedModule]) -> FamilyResult {
    let id = "minifilter"
    let globals: FilterManagerGlobals
    do throws(WindowsKernelError) {
      globals = try FilterManagerGlobals.locate(c, module: fltmgr, profile: c.moduleProfile(fltmgr))
    } catch {
      return FamilyResult(family: id, notLocated: error.description)
    }
    var result = FamilyResult(family: id, module: fltmgr, symbol: "FltGlobals", located: globals)
    let driverStart: UInt64?
    do throws(WindowsKernelError) { driverStart = try c.offset("_DRIVER_OBJECT", "DriverStart") } catch {
      driverStart = nil
      result.warnings.append("minifilter: \(error); no filter's driver image is checked for an owner")
    }
    for frame in globals.frames {
      let l = globals.layout
      var frameReads = FieldReads(c, profileStruct: "_FLTP_FRAME", at: frame)
      let kernel = c.kernel
      let frameID = frameReads.value("FrameID", at: frame &+ l.frameID) { va throws(WindowsKernelError) in
        Int64(try kernel.readUnsigned(va, width: 4))
      }
      result.warnings += frameReads.warnings.map { "minifilter: \($0)" }
      let filters = c.list(
        frame &+ l.frameFilters &+ l.resourceList, what: "_FLTP_FRAME.RegisteredFilters",
        bound: FilterManagerGlobals.filterBound)
      if let warning = filters.warning { result.warnings.append("minifilter: \(warning)") }
      for link in filters.entries {
        let filter = Filter(
          c, address: link &- l.primaryLink, frame: frame, frameID: frameID, globals: globals, modules: modules,
          driverStart: driverStart, warnings: &result.warnings)
        result.entries += filter.entries(c, globals, warnings: &result.warnings)
      }
    }
    return result
  }

  /// One _FLT_FILTER and what identifies it in every row.
  struct Filter {
    let address: UInt64
    let name: String
    let common: [(String, DetailValue)]
    let expectedOwners: [String]

    init(
      _ c: CallbackContext, address: UInt64, frame: UInt64, frameID: Int64?, globals: FilterManagerGlobals,
      modules: [LoadedModule], driverStart: UInt64?, warnings: inout [String]
    ) {
      let l = globals.layout
      self.address = address
      let name: String
      do { name = try c.kernel.readUnicodeString(address &+ l.filterName) } catch {
        name = Hex.format(address)
        warnings.append("minifilter: _FLT_FILTER.Name at \(Hex.format(address &+ l.filterName)): \(error)")
      }
      self.name = name
      let altitude: String?
      do { altitude = try c.kernel.readUnicodeString(address &+ l.filterAltitude) } catch {
        altitude = nil
        warnings.append(
          "minifilter: \(name): _FLT_FILTER.DefaultAltitude at \(Hex.format(address &+ l.filterAltitude)): \(error)")
      }
      let driver = c.pointer(address &+ l.filterDriver)
      var owners: [String] = []
      if let driver, let driverStart, let start = c.pointer(driver &+ driverStart),
        let image = modules.first(where: { $0.contains(start) })
      {
        owners = [image.name.lowercased()]
      } else if driverStart != nil {
        // Without the driver's image the rows are judged by no owner rather than by a wrong one.
        warnings.append("minifilter: \(name): driver image not found from _FLT_FILTER.DriverObject; owner not checked")
      }
      expectedOwners = owners
      common = [
        ("filter", .string(name)), ("altitude", altitude.map(DetailValue.string) ?? .null),
        ("frame", frameID.map(DetailValue.int) ?? .null), ("filterObject", .address(address)),
        ("driverObject", driver.map(DetailValue.address) ?? .null),
      ]
    }

    func entry(
      _ globals: FilterManagerGlobals, index: Int?, routine: UInt64, object: UInt64, details: [(String, DetailValue)]
    ) -> CallbackEntry {
      var entry = CallbackEntry(
        family: "minifilter", head: globals.address, headSymbol: "FltGlobals", index: index, routine: routine,
        object: object, details: common + details, provenance: globals.provenance)
      entry.expectedOwners = expectedOwners
      return entry
    }

    /// The filter's rows: its registered operations (flagged when an instance's node for them is
    /// unlinked), nodes calling other routines, and its FLT_REGISTRATION routines.
    func entries(_ c: CallbackContext, _ globals: FilterManagerGlobals, warnings: inout [String]) -> [CallbackEntry] {
      let l = globals.layout
      let (operations, readable) = registrations(c, l, warnings: &warnings)
      let nodes = instanceNodes(c, l, warnings: &warnings)
      var rows: [CallbackEntry] = []
      for (position, op) in operations.enumerated() {
        for (phase, routine) in [("pre", op.pre), ("post", op.post)] where routine != 0 {
          let mine = nodes.filter { $0.major == op.major && $0.routine(phase) == routine }
          let unlinked = mine.filter { !$0.linked }.map(\.instance)
          var row = entry(
            globals, index: position, routine: routine, object: op.address,
            details: [
              ("operation", .string(MinifilterReader.operationName(op.major))), ("phase", .string(phase)),
              ("flags", .int(Int64(op.flags))), ("instances", .int(Int64(Set(mine.map(\.instance)).count))),
              ("unlinkedInstances", .string(unlinked.joined(separator: ", "))),
            ])
          if !unlinked.isEmpty { row.flags = [MinifilterReader.unlinked.rawValue] }
          rows.append(row)
        }
      }
      let registered = Set(
        operations.flatMap {
          [
            RoutineKey(major: $0.major, routine: $0.pre, phase: "pre"),
            RoutineKey(major: $0.major, routine: $0.post, phase: "post"),
          ]
        })
      for node in nodes {
        for phase in ["pre", "post"] {
          let routine = node.routine(phase)
          guard routine != 0, !registered.contains(RoutineKey(major: node.major, routine: routine, phase: phase)) else {
            continue
          }
          var row = entry(
            globals, index: nil, routine: routine, object: node.address,
            details: [
              ("operation", .string(MinifilterReader.operationName(node.major))), ("phase", .string(phase)),
              ("instance", .string(node.instance)), ("instanceObject", .address(node.instanceAddress)),
              ("linked", .bool(node.linked)),
            ])
          // Against an unreadable registration array a node is listed, not judged replaced.
          row.flags =
            (readable ? [MinifilterReader.replaced.rawValue] : [])
            + (node.linked ? [] : [MinifilterReader.unlinked.rawValue])
          rows.append(row)
        }
      }
      for member in l.filterRoutines {
        guard let routine = c.pointer(address &+ member.offset) else {
          warnings.append(
            "minifilter: \(name): _FLT_FILTER.\(member.name) at \(Hex.format(address &+ member.offset)) unreadable")
          continue
        }
        guard routine != 0 else { continue }
        rows.append(
          entry(globals, index: nil, routine: routine, object: address, details: [("slot", .string(member.name))]))
      }
      return rows
    }

    struct RoutineKey: Hashable {
      let major: Int
      let routine: UInt64
      let phase: String
    }

    /// One FLT_OPERATION_REGISTRATION entry.
    struct Registration {
      let address: UInt64
      let major: Int
      let flags: UInt64
      let pre, post: UInt64
    }

    /// The filter's registration array (FltRegisterFilter's copy of the driver's), up to
    /// IRP_MJ_OPERATION_END; an entry that is no operation ends it with a warning naming the layout.
    func registrations(
      _ c: CallbackContext, _ l: FilterManagerLayout, warnings: inout [String]
    ) -> (operations: [Registration], readable: Bool) {
      guard let array = c.pointer(address &+ l.filterOperations) else {
        warnings.append(
          "minifilter: \(name): _FLT_FILTER.Operations at \(Hex.format(address &+ l.filterOperations)) unreadable")
        return ([], false)
      }
      guard array != 0 else { return ([], true) }
      var found: [Registration] = []
      for i in 0..<MinifilterReader.registrationBound {
        let at = array &+ UInt64(i) &* MinifilterReader.registrationSize
        guard let major = try? c.kernel.readUnsigned(at, width: 1),
          let flags = try? c.kernel.readUnsigned(at &+ 4, width: 4),
          let pre = c.pointer(at &+ 8), let post = c.pointer(at &+ 0x10)
        else {
          warnings.append("minifilter: \(name): FLT_OPERATION_REGISTRATION[\(i)] at \(Hex.format(at)) unreadable")
          return (found, false)
        }
        if UInt8(truncatingIfNeeded: major) == MinifilterReader.operationEnd { return (found, true) }
        // MajorFunction is a UCHAR: the filter manager's own operations are small negative values.
        let value = major >= 0x80 ? Int(major) - 0x100 : Int(major)
        guard value >= -FilterManagerLayout.internalOperations, value < IrpDispatchReader.majorFunctionNames.count
        else {
          warnings.append(
            "minifilter: \(name): FLT_OPERATION_REGISTRATION[\(i)] at \(Hex.format(at)) has MajorFunction \(major): "
              + "not a registration array (layout: \(l.basis))")
          return ([], false)
        }
        found.append(Registration(address: at, major: value, flags: flags, pre: pre, post: post))
      }
      warnings.append("minifilter: \(name): registration array at \(Hex.format(array)) has no IRP_MJ_OPERATION_END")
      return (found, false)
    }

    /// One _CALLBACK_NODE of an attached instance.
    struct Node {
      let address: UInt64
      let major: Int
      let instance: String
      let instanceAddress: UInt64
      let pre, post: UInt64
      /// Its CallbackLinks sit in a list: Flink's Blink and Blink's Flink come back to it.
      let linked: Bool
      func routine(_ phase: String) -> UInt64 { phase == "pre" ? pre : post }
    }

    /// The callback nodes of every instance of the filter (one instance per attached volume).
    func instanceNodes(_ c: CallbackContext, _ l: FilterManagerLayout, warnings: inout [String]) -> [Node] {
      let list = c.list(
        address &+ l.filterInstances &+ l.resourceList, what: "\(name) _FLT_FILTER.InstanceList",
        bound: MinifilterReader.instanceBound)
      if let warning = list.warning { warnings.append("minifilter: \(warning)") }
      var nodes: [Node] = []
      for link in list.entries {
        let instance = link &- l.instanceLink
        let label: String
        do {
          let text = try c.kernel.readUnicodeString(instance &+ l.instanceName)
          label = text.isEmpty ? Hex.format(instance) : text
        } catch {
          label = Hex.format(instance)
          warnings.append(
            "minifilter: \(name): _FLT_INSTANCE.Name at \(Hex.format(instance &+ l.instanceName)): \(error)")
        }
        for slot in 0..<l.nodeCount {
          let field = instance &+ l.instanceNodes &+ UInt64(slot) &* c.pointerSize
          guard let node = c.pointer(field) else {
            warnings.append(
              "minifilter: \(name): _FLT_INSTANCE.CallbackNodes[\(slot)] at \(Hex.format(field)) unreadable")
            break
          }
          guard node != 0 else { continue }
          guard let pre = c.pointer(node &+ l.nodePre), let post = c.pointer(node &+ l.nodePost),
            let flink = c.pointer(node &+ l.nodeLinks), let blink = c.pointer(node &+ l.nodeLinks &+ c.pointerSize)
          else {
            warnings.append("minifilter: \(name): _CALLBACK_NODE at \(Hex.format(node)) unreadable")
            continue
          }
          let links = node &+ l.nodeLinks
          let linked = flink != links && c.pointer(flink &+ c.pointerSize) == links && c.pointer(blink) == links
          nodes.append(
            Node(
              address: node, major: slot - FilterManagerLayout.internalOperations, instance: label,
              instanceAddress: instance, pre: pre, post: post, linked: linked))
        }
      }
      return nodes
    }
  }
}
