// How each family's head is found without a symbol file: the exported registration and removal
// routines whose code references it (facts from the routines' documented behaviour and the public
// write-ups of each; see DESIGN.md's family table), the dispatch value where one export serves
// several heads, and the check a candidate must pass: its structure, then the family's own reader
// run over it, every routine it yields lying in code.

import AddressSpace
import BinaryReading
import Symbols
import WindowsKernel

/// Locator recipes for the callback families' heads and counters.
public enum FamilyHeadLocators {
  /// One head found through exported code, with its family and shape.
  struct Head {
    var symbol: String
    var family: String
    var exports: [String]
    var filter: ReferenceFilter
    var condition: Int64?
    var shape: HeadShape
    var build: Int
    /// A value every entry carries that tells this head from its siblings (the dispatch value).
    var discriminator: HeadDiscriminator?
  }

  /// Every family's recipes on `build` (0: unknown, every head): each descriptor's heads that
  /// exported code reaches or that have their own recipe, then the descriptor's further recipes
  /// (counters).
  public static func recipes(build: Int) -> [HeadRecipe] {
    FamilyDescriptor.all.flatMap { descriptorRecipes($0, build: build) }
  }

  /// The recipes of a descriptor's heads on `build` (0: every head), then its own.
  static func descriptorRecipes(_ d: FamilyDescriptor, build: Int) -> [HeadRecipe] {
    guard build == 0 || d.builds.contains(build) else { return [] }
    var recipes: [HeadRecipe] = []
    for head in d.heads where build == 0 || head.builds.contains(build) {
      switch head.location {
      case .code(let exports, let shape, let filter, let condition, let discriminator):
        recipes.append(
          recipe(
            Head(
              symbol: head.symbol, family: d.id, exports: exports, filter: filter, condition: condition, shape: shape,
              build: build, discriminator: discriminator)))
      case .recipe(let make): recipes.append(make(build))
      case .symbolOnly, .exported, .kernelModel, .module: break
      }
    }
    return recipes + d.recipes(build)
  }

  /// SeCiCallbacks (8+) is referenced only by SepInitializeCodeIntegrity, which ntoskrnl does not
  /// export; CiInitialize fills it with CI.dll's routines. So it is found by its content: a table in
  /// ntoskrnl's image that starts with its own size (a ULONG, pointer-padded) and whose routine
  /// pointers all lie in CI.dll. The ci reader then reads it as usual.
  static let codeIntegrityTable = HeadRecipe(
    symbol: "SeCiCallbacks",
    source: .derived { c in
      guard let ci = c.modules.first(where: { $0.name.lowercased() == "ci.dll" }) else { return [] }
      let size = c.pointerSize
      var found: [(address: UInt64, evidence: String)] = []
      let ciEnd = ci.base &+ ci.size  // a module never wraps the address space
      scan: for page in c.dataWords {
        let words = page.words
        for (i, word) in words.enumerated() {
          // The size is a ULONG padded to a pointer: the low half of the word, the high half zero.
          let tableSize = word & 0xffff_ffff
          guard word >> 32 == 0 || size == 4, tableSize >= size &* 4, tableSize <= 0x400, tableSize % size == 0 else {
            continue
          }
          let slots = Int(tableSize / size) - 1
          var inCI = 0
          var other = 0
          for slot in 1...slots {
            let value: UInt64
            if i + slot < words.count {
              value = words[i + slot]
            } else if let v = c.pointer(page.address &+ UInt64(i + slot) &* size) {
              value = v
            } else {
              other += 1
              break
            }
            if value == 0 { continue }
            if value >= ci.base && value < ciEnd { inCI += 1 } else { other += 1 }
            if other > 0 { break }
          }
          guard inCI >= 3, other == 0 else { continue }
          found.append(
            (
              page.address &+ UInt64(i) &* size,
              "data scan of ntoskrnl: a \(tableSize)-byte size-prefixed table whose \(inCI) routines all lie in "
                + "\(ci.name) (\(Hex.format(ci.base))) — SeCiCallbacks has no exported referrer"
            ))
          if found.count >= 8 { break scan }
        }
      }
      return found
    }
  ) { address, c in
    readerCheck("SeCiCallbacks", family: "ci", at: address, c)
  }

  static func recipe(_ head: Head) -> HeadRecipe {
    let shape = head.shape
    let after = head.family == "callback-object" ? ["ObpRootDirectoryObject"] : []
    return HeadRecipe(
      symbol: head.symbol, source: .code(exports: head.exports, filter: head.filter, condition: head.condition),
      after: after
    ) { address, context in
      if case .rejected(let why) = structure(shape, build: head.build, address, head.symbol, context) {
        return .rejected(why)
      }
      if let discriminator = head.discriminator,
        case .rejected(let why) = discriminate(discriminator, shape, address, head.symbol, context)
      {
        return .rejected(why)
      }
      return readerCheck(head.symbol, family: head.family, at: address, context)
    }
  }

  /// The structural check of a shape (entries are checked by the family's reader afterwards).
  static func structure(_ shape: HeadShape, build: Int, _ address: UInt64, _ what: String, _ c: LocatorContext)
    -> ShapeVerdict
  {
    switch shape {
    case .list:
      return c.checkList(address, what: what) { _ in nil }
    case .buckets(let count):
      for bucket in 0..<count {
        let head = address &+ UInt64(bucket) &* 2 &* c.pointerSize
        if case .rejected(let why) = c.checkList(head, what: what, entry: { _ in nil }) {
          return .rejected("bucket \(bucket): \(why)")
        }
      }
      return .accepted(.weak, "\(count) LIST_ENTRY buckets")
    case .fastRefArray(let slots):
      let function = c.offset("_EX_CALLBACK_ROUTINE_BLOCK", "Function") ?? c.pointerSize
      return c.checkFastRefArray(address, slots: slots(build), functionOffset: function)
    case .singlyLinked, .pointerOrNull:
      guard let value = c.pointer(address) else { return .rejected("unreadable") }
      guard value == 0 || c.isKernelPointer(value) else {
        return .rejected("\(Hex.format(value)) is not a kernel pointer")
      }
      return .accepted(.weak, "null or a kernel pointer")
    case .table:
      return .accepted(.weak, "table")
    }
  }

  /// Checks that every entry of the head carries the discriminating value.
  static func discriminate(
    _ d: HeadDiscriminator, _ shape: HeadShape, _ address: UInt64, _ what: String, _ c: LocatorContext
  )
    -> ShapeVerdict
  {
    let check: (UInt64) -> String?
    switch d {
    case .deviceType(let expected):
      guard let queue = c.offset("_DEVICE_OBJECT", "Queue"), let type = c.offset("_DEVICE_OBJECT", "DeviceType") else {
        return .rejected("_DEVICE_OBJECT.Queue/DeviceType not in the layouts")
      }
      check = { link in
        let device = link &- queue  // the queue link lies inside the device object
        guard let value = try? c.kernel.readUnsigned(device &+ type, width: 4) else { return "DeviceType unreadable" }
        return d.siblings.contains(value)
          ? "device \(Hex.format(device)) has DeviceType \(Hex.format(value)), a sibling queue's, not \(Hex.format(expected))"
          : nil
      }
    case .eventCategory(let expected):
      guard
        let category = try? UndocumentedLayouts(pointerSize: Int(c.pointerSize), build: c.build).pnpNotifyEntry[
          "EventCategory"]
      else { return .rejected("PnP notify entry EventCategory not in the declared layout") }
      check = { entry in
        guard let value = try? c.kernel.readUnsigned(entry &+ category, width: 4) else {
          return "EventCategory unreadable"
        }
        return d.siblings.contains(value) ? "EventCategory \(value), a sibling list's, not \(expected)" : nil
      }
    }
    var heads = [address]
    if case .buckets(let count) = shape {
      heads = (0..<count).map { address &+ UInt64($0) &* 2 &* c.pointerSize }
    }
    var checked = 0
    for head in heads {
      switch c.checkList(head, what: what, entry: check) {
      case .rejected(let why): return .rejected(why)
      case .accepted(let strength, _): if strength == .strong { checked += 1 }
      }
    }
    return .accepted(checked > 0 ? .strong : .weak, "no entry carries a sibling head's value")
  }

  /// Runs the family's own reader with `symbol` at `address`: accepted when it reads at least one
  /// routine and every routine lies in code, weak when it reads an empty head without complaint.
  static func readerCheck(_ symbol: String, family: String, at address: UInt64, _ c: LocatorContext) -> ShapeVerdict {
    guard let reader = FamilyDescriptor.named(family)?.reader else {
      return .rejected("no reader for \(family)")
    }
    // Only the callback-object reader needs the object manager (device names are details).
    let trial = CallbackContext(
      kernel: c.kernel(trying: symbol, at: address), build: c.build, readObjects: family == "callback-object")
    let results = reader.collect(trial).filter { $0.family == family }
    guard let first = results.first else { return .rejected("the \(family) reader returned nothing") }
    if let reason = first.notLocated { return .rejected(reason) }
    let entries = results.flatMap(\.entries)
    if let bad = entries.first(where: { !c.isPlausibleRoutine($0.routine) }) {
      return .rejected("the \(family) reader finds routine \(Hex.format(bad.routine)), which is not code")
    }
    // A broken list that was recovered is still the list; any other complaint means it is not.
    if let complaint = results.flatMap(\.warnings).first(where: { !$0.contains("is broken") }) {
      return .rejected(complaint)
    }
    if entries.isEmpty { return .accepted(.weak, "the \(family) reader finds it empty") }
    return .accepted(
      .strong, "the \(family) reader reads \(entries.count) routine\(entries.count == 1 ? "" : "s"), all in code")
  }

  /// ExpCallbackListHead (8.1+): every entry is a CALLBACK_OBJECT (Signature 'Call') linked through
  /// ExpCallbackList.
  static let callbackObjectList = HeadRecipe(
    symbol: "ExpCallbackListHead",
    source: .code(exports: ["ExCreateCallback", "ExRegisterCallback"], filter: .addressOrAccess, condition: nil)
  ) { address, c in
    let layouts = UndocumentedLayouts(pointerSize: Int(c.pointerSize), build: c.build)
    guard let link = try? layouts.callbackObject["ExpCallbackList"],
      let signature = try? layouts.callbackObject["Signature"]
    else { return .rejected("CALLBACK_OBJECT.ExpCallbackList/Signature not in the declared layout") }
    return c.checkList(address, what: "ExpCallbackListHead") { entry in
      let object = entry &- link
      guard let value = try? c.kernel.readUnsigned(object &+ signature, width: 4) else { return "unreadable" }
      return value == UInt64(CallbackObjectFamily.signature) ? nil : "signature \(Hex.format(value)), not 'Call'"
    }
  }

  /// The counters beside the notify arrays (CallbackVerdicts' count check reads them).
  static let counters: [HeadRecipe] = [
    counter(
      "PspCreateProcessNotifyRoutineCount", array: "PspCreateProcessNotifyRoutine", flavour: .legacy,
      exports: [
        "PsSetCreateProcessNotifyRoutine", "PsSetCreateProcessNotifyRoutineEx", "PsSetCreateProcessNotifyRoutineEx2",
      ]),
    counter(
      "PspCreateProcessNotifyRoutineExCount", array: "PspCreateProcessNotifyRoutine", flavour: .extended,
      exports: [
        "PsSetCreateProcessNotifyRoutine", "PsSetCreateProcessNotifyRoutineEx", "PsSetCreateProcessNotifyRoutineEx2",
      ]),
    counter(
      "PspCreateThreadNotifyRoutineCount", array: "PspCreateThreadNotifyRoutine", flavour: .all,
      exports: [
        "PsSetCreateThreadNotifyRoutine", "PsSetCreateThreadNotifyRoutineEx", "PsRemoveCreateThreadNotifyRoutine",
      ]),
    counter(
      "PspLoadImageNotifyRoutineCount", array: "PspLoadImageNotifyRoutine", flavour: .all,
      exports: ["PsSetLoadImageNotifyRoutine", "PsSetLoadImageNotifyRoutineEx", "PsRemoveLoadImageNotifyRoutine"]),
  ]

  /// CmpCallBackCount: the registry callbacks registered, a ULONG kept beside CallbackListHead.
  static let registryCounter = HeadRecipe(
    symbol: "CmpCallBackCount",
    source: .code(
      exports: ["CmRegisterCallbackEx", "CmRegisterCallback", "CmUnRegisterCallback"], filter: .dwordAccess,
      condition: nil),
    after: ["CallbackListHead"], alignment: 4
  ) { address, c in
    guard let head = c.address(of: "CallbackListHead") else { return .rejected("CallbackListHead not located") }
    guard let value = try? c.kernel.readUnsigned(address, width: 4) else { return .rejected("unreadable") }
    let entries = UInt64(
      c.kernel.space.recoveredList(head: head, bound: 4096, what: "CallbackListHead").entries.count)
    if value == entries { return .accepted(.strong, "ULONG \(value) = the registry callbacks on CallbackListHead") }
    if value > entries && value <= 100 {
      return .accepted(.weak, "ULONG \(value), above the \(entries) listed callbacks")
    }
    return .rejected("value \(value) does not count the \(entries) registry callbacks")
  }

  enum Flavour { case all, legacy, extended }

  /// A ULONG updated with a LOCK prefix whose value counts the array's live slots (of one flavour:
  /// PspSetCreateProcessNotifyRoutine marks Ex registrations with 2 in the block's Context). A count
  /// above the live slots is still accepted, weakly: an emptied slot is what count-mismatch reports.
  static func counter(_ symbol: String, array: String, flavour: Flavour, exports: [String]) -> HeadRecipe {
    HeadRecipe(
      symbol: symbol, source: .code(exports: exports, filter: .dwordAccess, condition: nil), after: [array],
      alignment: 4
    ) { address, c in
      guard let head = c.address(of: array) else { return .rejected("\(array) not located") }
      guard let value = try? c.kernel.readUnsigned(address, width: 4) else { return .rejected("unreadable") }
      // The profile's offset, else the declared layout's — never a constant.
      let declared = UndocumentedLayouts(pointerSize: Int(c.pointerSize), build: c.build).callbackRoutineBlock
      guard let contextOffset = c.offset("_EX_CALLBACK_ROUTINE_BLOCK", "Context") ?? (try? declared["Context"]) else {
        return .rejected("_EX_CALLBACK_ROUTINE_BLOCK.Context: no offset in the profile or the declared layout")
      }
      guard let slots = try? c.kernel.space.fastRefSlots(at: head, count: 64) else {
        return .rejected("\(array) unreadable")
      }
      var live: UInt64 = 0
      for slot in slots where slot.value != 0 {
        // A block whose Context is unreadable cannot be told Ex or not: the candidate is not proven.
        guard let flags = c.pointer(slot.object &+ contextOffset) else {
          return .rejected(
            "_EX_CALLBACK_ROUTINE_BLOCK.Context at \(Hex.format(slot.object &+ contextOffset)) unreadable")
        }
        let isEx = flags & 0x2 != 0
        switch flavour {
        case .all: live += 1
        case .legacy: if !isEx { live += 1 }
        case .extended: if isEx { live += 1 }
        }
      }
      if value == live { return .accepted(.strong, "ULONG \(value) = the live slots it counts") }
      if value > live && value <= 64 {
        return .accepted(.weak, "ULONG \(value), above the \(live) live slot(s) it counts")
      }
      return .rejected("value \(value) does not count \(live) live slot(s)")
    }
  }
}
