// Locator recipes for the kernel model's own variables: the process list head (derived from the
// exported PsInitialSystemProcess), the object-type table and header cookie (ObGetObjectType's code)
// and the root of the object namespace (ObReferenceObjectByName's lookup).

import BinaryReading
import Symbols

/// Recipes for PsActiveProcessHead, ObTypeIndexTable, ObHeaderCookie and ObpRootDirectoryObject.
public enum KernelModelRecipes {
  public static func recipes(build: Int) -> [HeadRecipe] {
    var all = [activeProcessHead, typeIndexTable, debuggerDataBlock]
    // The TypeIndex of an object header is encoded with ObHeaderCookie since Windows 10.
    if build == 0 || build >= 10240 { all.append(headerCookie) }
    all.append(rootDirectory)
    // Object-type variables are exported on most builds (then the export table answers first).
    all.append(
      objectType("ExCallbackObjectType", named: "Callback", exports: ["ExCreateCallback", "ExRegisterCallback"]))
    all.append(
      objectType("PsProcessType", named: "Process", exports: ["ObRegisterCallbacks", "PsLookupProcessByProcessId"]))
    all.append(
      objectType("PsThreadType", named: "Thread", exports: ["ObRegisterCallbacks", "PsLookupThreadByThreadId"]))
    return all
  }

  /// A variable holding a pointer to the OBJECT_TYPE named `typeName` (one of ObTypeIndexTable's).
  static func objectType(_ symbol: String, named typeName: String, exports: [String]) -> HeadRecipe {
    HeadRecipe(
      symbol: symbol, source: .code(exports: exports, filter: .load, condition: nil), after: ["ObTypeIndexTable"]
    ) { address, c in
      guard let table = c.address(of: "ObTypeIndexTable"), let name = c.offset("_OBJECT_TYPE", "Name") else {
        return .rejected("ObTypeIndexTable not located")
      }
      guard let type = c.pointer(address), type != 0 else { return .rejected("null or unreadable") }
      for slot in 2..<256 {
        guard let entry = c.pointer(table &+ UInt64(slot) &* c.pointerSize), entry != 0 else { break }
        if entry == type {
          let actual = (try? c.kernel.readUnicodeString(type &+ name)) ?? "?"
          return actual == typeName
            ? .accepted(.strong, "points to OBJECT_TYPE \"\(typeName)\" (ObTypeIndexTable slot \(slot))")
            : .rejected("points to OBJECT_TYPE \"\(actual)\", not \"\(typeName)\"")
        }
      }
      return .rejected("\(Hex.format(type)) is not one of ObTypeIndexTable's types")
    }
  }

  /// The System process is the first entry of the process list: its ActiveProcessLinks.Blink is
  /// the head, which lies in ntoskrnl's data and whose Flink returns to the System process.
  static let activeProcessHead = HeadRecipe(
    symbol: "PsActiveProcessHead",
    source: .derived { c in
      guard let variable = c.address(of: "PsInitialSystemProcess"), let system = c.pointer(variable),
        let links = c.offset("_EPROCESS", "ActiveProcessLinks"), let blink = c.pointer(system &+ links &+ c.pointerSize)
      else { return [] }
      return [
        (
          blink,
          "PsInitialSystemProcess → EPROCESS \(Hex.format(system)) → ActiveProcessLinks.Blink \(Hex.format(blink))"
        )
      ]
    },
    after: ["PsInitialSystemProcess"]
  ) { address, c in
    guard c.isKernelData(address) else { return .rejected("not in ntoskrnl's data") }
    guard let variable = c.address(of: "PsInitialSystemProcess"), let system = c.pointer(variable),
      let links = c.offset("_EPROCESS", "ActiveProcessLinks")
    else { return .rejected("System process unreadable") }
    guard c.pointer(address) == system &+ links else { return .rejected("its Flink is not the System process's links") }
    return c.checkList(address, what: "PsActiveProcessHead") { _ in nil }
  }

  /// KdDebuggerDataBlock: a plaintext KDDEBUGGER_DATA64 in ntoskrnl's data ('KDBG' tag, KernBase
  /// the image's base) whose PsLoadedModuleList member is the exported variable's address. An
  /// encoded block (Windows 8 and later, unless a debugger decoded it) cannot be recognised.
  static let debuggerDataBlock = HeadRecipe(
    symbol: "KdDebuggerDataBlock",
    source: .derived { c in
      let base = c.kernel.image.base
      var found: [(address: UInt64, evidence: String)] = []
      for page in c.dataWords {
        // The tag is the low half of the word at +0x10, KernBase the word at +0x18.
        for i in page.words.indices.dropFirst(2).dropLast()
        where page.words[i] & 0xffff_ffff == UInt64(DebuggerDataBlock.ownerTag) && page.words[i + 1] == base {
          let at = page.address &+ UInt64(i - 2) &* 8  // inside the page
          found.append((at, "data scan of ntoskrnl: 'KDBG' tag and KernBase \(Hex.format(base)) at \(Hex.format(at))"))
          if found.count >= 4 { return found }
        }
      }
      return found
    },
    after: ["PsLoadedModuleList"]
  ) { address, c in
    if let why = DebuggerDataBlock.rejection(at: address, kernelBase: c.kernel.image.base, in: c.kernel) {
      return .rejected(why)
    }
    guard let list = c.address(of: "PsLoadedModuleList") else { return .rejected("PsLoadedModuleList not located") }
    guard c.pointer(address &+ DebuggerDataBlock.psLoadedModuleListOffset) == list else {
      return .rejected("its PsLoadedModuleList member is not the exported variable \(Hex.format(list))")
    }
    return .accepted(.strong, "plaintext KDDEBUGGER_DATA64: 'KDBG', KernBase and PsLoadedModuleList agree")
  }

  /// ObTypeIndexTable: slot 0 null, slot 2 the "Type" type, every type's Index equal to its slot.
  static let typeIndexTable = HeadRecipe(
    symbol: "ObTypeIndexTable", source: .code(exports: ["ObGetObjectType"], filter: .addressOrAccess, condition: nil)
  ) { address, c in
    guard let name = c.offset("_OBJECT_TYPE", "Name"), let index = c.offset("_OBJECT_TYPE", "Index") else {
      return .rejected("_OBJECT_TYPE.Name/Index not in the layouts")
    }
    guard c.pointer(address) == 0 else { return .rejected("slot 0 is not null") }
    var types = 0
    for slot in 2..<256 {
      guard let type = c.pointer(address &+ UInt64(slot) &* c.pointerSize) else {
        return .rejected("slot \(slot) unreadable")
      }
      if type == 0 { break }
      guard c.isKernelPointer(type), let typeName = try? c.kernel.readUnicodeString(type &+ name),
        let stored = try? c.kernel.readUnsigned(type &+ index, width: 1), stored == UInt64(slot)
      else { return .rejected("slot \(slot) (\(Hex.format(type))) is not an OBJECT_TYPE of index \(slot)") }
      if slot == 2 && typeName != "Type" { return .rejected("slot 2 is \(typeName), not Type") }
      types += 1
    }
    guard types >= 3 else { return .rejected("only \(types) object types") }
    return .accepted(.strong, "\(types) OBJECT_TYPEs, each at the slot of its Index, slot 2 \"Type\"")
  }

  /// ObHeaderCookie: the byte that decodes every type object's header to TypeIndex 2 ("Type").
  static let headerCookie = HeadRecipe(
    symbol: "ObHeaderCookie", source: .code(exports: ["ObGetObjectType"], filter: .any, condition: nil),
    after: ["ObTypeIndexTable"], alignment: 1
  ) { address, c in
    guard let table = c.address(of: "ObTypeIndexTable") else { return .rejected("ObTypeIndexTable not located") }
    guard let body = c.offset("_OBJECT_HEADER", "Body"), let typeIndex = c.offset("_OBJECT_HEADER", "TypeIndex") else {
      return .rejected("_OBJECT_HEADER layout missing")
    }
    guard let cookie = try? c.kernel.readUnsigned(address, width: 1) else { return .rejected("unreadable") }
    var checked = 0
    for slot in 2..<256 {
      guard let type = c.pointer(table &+ UInt64(slot) &* c.pointerSize), type != 0 else { break }
      let header = type &- body
      guard let raw = try? c.kernel.readUnsigned(header &+ typeIndex, width: 1) else { continue }
      let decoded =
        UInt8(truncatingIfNeeded: raw) ^ UInt8(truncatingIfNeeded: cookie)
        ^ UInt8(truncatingIfNeeded: header >> 8)
      guard decoded == 2 else {
        return .rejected("decodes type object \(Hex.format(type))'s header to index \(decoded), not 2")
      }
      checked += 1
    }
    guard checked >= 3 else { return .rejected("only \(checked) type objects to check") }
    return .accepted(.strong, "byte \(Hex.format(cookie)) decodes all \(checked) type objects' headers to Type")
  }

  /// The names every Windows root directory holds (any two suffice).
  static let rootNames: Set<String> = [
    "ObjectTypes", "Callback", "Device", "Driver", "KernelObjects", "BaseNamedObjects", "GLOBAL??", "Sessions",
    "FileSystem", "Windows", "RPC Control", "KnownDlls", "Security",
  ]

  /// ObpRootDirectoryObject: a pointer to a directory whose entries carry the root's names.
  static let rootDirectory = HeadRecipe(
    symbol: "ObpRootDirectoryObject",
    source: .code(
      exports: ["ObReferenceObjectByName", "ObOpenObjectByName", "ObFindHandleForObject"], filter: .load,
      condition: nil),
    fallback: .derived(directoryPointers),
    after: ["ObTypeIndexTable", "ObHeaderCookie"]
  ) { address, c in
    guard let root = c.pointer(address), c.isKernelPointer(root) else { return .rejected("not a kernel pointer") }
    let trial = c.kernel(trying: "ObpRootDirectoryObject", at: address)
    guard let manager = c.objectManager(trial) else { return .rejected("object manager unreadable") }
    // The root is the one directory without a name of its own (or named "\\").
    if let own = try? manager.object(at: root), let name = own.name, !name.isEmpty, name != "\\" {
      return .rejected("directory \(Hex.format(root)) is named \"\(name)\": a subdirectory, not the root")
    }
    let names = Set(manager.entries(ofDirectory: root).objects.compactMap(\.name))
    let known = names.intersection(rootNames)
    guard known.count >= 2 else { return .rejected("directory \(Hex.format(root)) has none of the root's names") }
    return .accepted(.strong, "directory \(Hex.format(root)) holds \(known.sorted().joined(separator: ", "))")
  }

  /// Every pointer-aligned variable in ntoskrnl's image that points to a Directory object (its
  /// header's TypeIndex decodes, with the cookie, to the "Directory" slot of ObTypeIndexTable).
  static let directoryPointers: @Sendable (LocatorContext) -> [(address: UInt64, evidence: String)] = { c in
    guard let table = c.address(of: "ObTypeIndexTable"), let nameOffset = c.offset("_OBJECT_TYPE", "Name"),
      let body = c.offset("_OBJECT_HEADER", "Body"), let typeIndexOffset = c.offset("_OBJECT_HEADER", "TypeIndex")
    else { return [] }
    var directoryIndex: UInt8?
    for slot in 2..<256 {
      guard let type = c.pointer(table &+ UInt64(slot) &* c.pointerSize), type != 0 else { break }
      if (try? c.kernel.readUnicodeString(type &+ nameOffset)) == "Directory" {
        directoryIndex = UInt8(slot)
        break
      }
    }
    guard let directoryIndex else { return [] }
    let cookie = c.address(of: "ObHeaderCookie").flatMap { try? c.kernel.readUnsigned($0, width: 1) }.map {
      UInt8(truncatingIfNeeded: $0)
    }
    let size = Int(c.pointerSize)
    var found: [(address: UInt64, evidence: String)] = []
    let imageStart = c.kernel.image.base
    let imageEnd = imageStart &+ c.kernel.image.size  // a kernel image never wraps the address space
    scan: for page in c.dataWords {
      for (i, value) in page.words.enumerated() {
        // Object bodies are 16-byte aligned pool allocations outside the image.
        guard value & 0xf == 0, value > body, value < imageStart || value >= imageEnd, c.isKernelPointer(value) else {
          continue
        }
        let header = value &- body
        guard let raw = try? c.kernel.space.readUInt8(header &+ typeIndexOffset) else { continue }
        var index = raw
        if let cookie { index ^= cookie ^ UInt8(truncatingIfNeeded: header >> 8) }
        guard index == directoryIndex else { continue }
        let at = page.address &+ UInt64(i) &* UInt64(size)  // inside the page
        found.append((at, "data scan of ntoskrnl: points to Directory object \(Hex.format(value))"))
        if found.count >= 16 { break scan }
      }
    }
    return found
  }
}
