// What shape checks read through while the locators run: the kernel with lent layouts and the
// addresses known so far (exports first, then each located variable), the loaded modules, and
// ntoskrnl's sections. Also the common checks: plausible routine, list head, singly linked list,
// EX_FAST_REF array, table of routine pointers.

import AddressSpace
import BinaryReading
import PortableExecutable
import Symbols

/// The state the locators and shape checks share.
public final class LocatorContext {
  /// The kernel with lent layouts; its symbols are the exports and what was located so far.
  public private(set) var kernel: Kernel
  /// PsLoadedModuleList's modules (empty when the list is unreadable).
  public let modules: [LoadedModule]
  /// ntoskrnl's section headers as mapped.
  public let sections: [PESection]
  /// Build number (19041), 0 when unknown.
  public let build: Int
  private var known: [String: SymbolInfo]
  /// Type names read by `objectManager(_:)`, with the ObTypeIndexTable they came from.
  private var typeNames: (table: UInt64?, names: [UInt8: String])?
  private let layouts: any KernelProfile

  init(
    kernel: Kernel, layouts: any KernelProfile, known: [SymbolInfo], modules: [LoadedModule], sections: [PESection],
    build: Int
  ) {
    self.kernel = kernel
    self.layouts = layouts
    self.modules = modules
    self.sections = sections
    self.build = build
    var byName: [String: SymbolInfo] = [:]
    for s in known { byName[s.name] = s }
    self.known = byName
  }

  /// Records a located symbol so later checks can read it.
  func record(_ info: SymbolInfo) {
    known[info.name] = info
    kernel = Kernel(
      space: kernel.space, image: kernel.image,
      profile: LayoutOnlyProfile(identity: kernel.profile.identity, layouts: layouts, byName: known))
  }

  /// A kernel with `symbol` set to `address` in addition to everything known (to try a candidate
  /// with readers that take their addresses from the profile).
  public func kernel(trying symbol: String, at address: UInt64) -> Kernel {
    // The trial rides beside the shared table: a copy per candidate was a tenth of a locator run.
    let trial = SymbolInfo(name: symbol, rva: address &- kernel.image.base, provenance: .pattern)
    return Kernel(
      space: kernel.space, image: kernel.image,
      profile: LayoutOnlyProfile(identity: kernel.profile.identity, layouts: layouts, byName: known, trial: trial))
  }

  /// The object manager of `trial` (a kernel of this context with one symbol tried), reusing the
  /// type names read for an earlier trial over the same ObTypeIndexTable: every candidate of the
  /// root directory reads the same 60-odd type objects otherwise.
  public func objectManager(_ trial: Kernel) -> ObjectManager? {
    let table = try? trial.address(of: "ObTypeIndexTable")
    let reuse = typeNames.flatMap { $0.table == table ? $0.names : nil }
    guard let manager = try? ObjectManager(kernel: trial, typeNames: reuse) else { return nil }
    if reuse == nil { typeNames = (table, manager.types) }
    return manager
  }

  /// The address of a known (exported or located) symbol.
  public func address(of symbol: String) -> UInt64? { known[symbol].map { kernel.image.base &+ $0.rva } }

  /// A member offset from the lent layouts.
  public func offset(_ structName: String, _ field: String) -> UInt64? {
    guard let f = layouts.field(structName, field), f.offset >= 0 else { return nil }
    return UInt64(f.offset)
  }

  public var pointerSize: UInt64 { UInt64(kernel.pointerSize) }

  /// The section of ntoskrnl holding `va`, if any.
  public func section(of va: UInt64) -> PESection? {
    guard kernel.image.contains(va) else { return nil }
    let rva = va - kernel.image.base
    return sections.first { s in
      let size = UInt64(max(s.virtualSize, s.sizeOfRawData))
      return rva >= UInt64(s.virtualAddress) && rva - UInt64(s.virtualAddress) < size
    }
  }

  /// Whether `va` can hold one of ntoskrnl's variables: inside one of the image's sections. Section
  /// flags are not trusted to tell data from code (variables sit in INIT, an executable section, on
  /// some builds); the shape checks reject code bytes.
  public func isKernelData(_ va: UInt64) -> Bool { section(of: va) != nil }

  /// The page-aligned ranges of ntoskrnl's data sections (not executable, or writable): where the
  /// data scans look. Code sections are never scanned.
  public var dataRanges: [Range<UInt64>] {
    sections.compactMap { s in
      guard !s.isExecutable || s.characteristics & 0x8000_0000 != 0 else { return nil }
      let start = kernel.image.base &+ UInt64(s.virtualAddress)
      let size = UInt64(max(s.virtualSize, s.sizeOfRawData))
      guard size > 0, UInt64(s.virtualAddress) < kernel.image.size else { return nil }
      let end = kernel.image.base &+ min(UInt64(s.virtualAddress) &+ size, kernel.image.size)
      return (start & ~0xfff)..<end  // inside the image, so no wrap
    }
  }

  /// The readable 4 KiB pages of the data sections as pointer-sized words, read once for every
  /// data scan (KDBG, SeCiCallbacks, directory pointers); the page bytes are not kept beside them.
  public private(set) lazy var dataWords: [(address: UInt64, words: [UInt64])] = {
    var pages: [(UInt64, [UInt64])] = []
    for range in dataRanges {
      var page = range.lowerBound
      while page < range.upperBound {
        if let bytes = try? kernel.space.read(page, count: 0x1000) {
          pages.append((page, ByteCursor(bytes, origin: page).words(width: kernel.pointerSize)))
        }
        page &+= 0x1000  // below the range's end, inside the image
      }
    }
    return pages
  }()

  /// Whether `va` lies in an executable section of ntoskrnl (where walks may go).
  public func isKernelCode(_ va: UInt64) -> Bool { section(of: va)?.isExecutable ?? false }

  public func pointer(_ va: UInt64) -> UInt64? { try? kernel.readPointer(va) }

  /// Whether `value` is a kernel-half address.
  public func isKernelPointer(_ value: UInt64) -> Bool { kernel.isKernelAddress(value) }

  /// The module holding `va`.
  public func module(of va: UInt64) -> LoadedModule? {
    modules.first { va >= $0.base && va - $0.base < $0.size }
  }

  /// A routine address worth trusting as a callback: a mapped kernel address inside a loaded
  /// module, or on an executable page (callbacks of unlinked drivers and pool code).
  public func isPlausibleRoutine(_ va: UInt64) -> Bool {
    guard va != 0, isKernelPointer(va) else { return false }
    if module(of: va) != nil { return (try? kernel.space.translate(va)) != nil }
    guard let t = try? kernel.space.translate(va) else { return false }
    return t.executable
  }

  /// Checks a LIST_ENTRY head: both links readable kernel pointers that round-trip, every entry
  /// (the LIST_ENTRY address) accepted by `entry` (nil = fine, else why not).
  public func checkList(_ head: UInt64, what: String, bound: Int = 512, entry: (UInt64) -> String?) -> ShapeVerdict {
    guard let flink = pointer(head), let blink = pointer(head &+ pointerSize) else {
      return .rejected("LIST_ENTRY unreadable")
    }
    guard isKernelPointer(flink), isKernelPointer(blink) else {
      return .rejected("Flink \(Hex.format(flink)) / Blink \(Hex.format(blink)) are not kernel pointers")
    }
    if flink == head && blink == head { return .accepted(.weak, "empty LIST_ENTRY (self-linked)") }
    guard flink != head, blink != head else {
      return .rejected(
        "one link self-referencing, the other not (Flink \(Hex.format(flink)), Blink \(Hex.format(blink)))")
    }
    let forwardBack = pointer(flink &+ pointerSize)
    let backwardForth = pointer(blink)
    guard forwardBack == head || backwardForth == head else {
      return .rejected("neither Flink→Blink nor Blink→Flink leads back to the head")
    }
    let list = kernel.space.recoveredList(head: head, bound: bound, what: what)
    guard !list.entries.isEmpty else { return .rejected("no entry readable") }
    for link in list.entries {
      if let problem = entry(link) { return .rejected("entry at \(Hex.format(link)): \(problem)") }
    }
    let broken = list.warning.map { "; \($0)" } ?? ""
    return .accepted(
      .strong, "LIST_ENTRY with \(list.entries.count) checked entr\(list.entries.count == 1 ? "y" : "ies")\(broken)")
  }

  /// Checks a singly linked list whose first node's address is stored at `head`; `next` is the
  /// offset of the link in a node; null ends the list.
  public func checkSinglyLinked(_ head: UInt64, next: UInt64, bound: Int = 512, node: (UInt64) -> String?)
    -> ShapeVerdict
  {
    guard let first = pointer(head) else { return .rejected("head unreadable") }
    if first == 0 { return .accepted(.weak, "empty singly linked list (null)") }
    let chain = kernel.space.chain(first: first, nextOffset: next, bound: bound)
    for current in chain.nodes {
      guard isKernelPointer(current) else { return .rejected("node \(Hex.format(current)) is not a kernel pointer") }
      if let problem = node(current) { return .rejected("node at \(Hex.format(current)): \(problem)") }
    }
    switch chain.stop {
    case .nullTerminated: break
    case .cycle(let at): return .rejected("list loops at \(Hex.format(at))")
    case .bound: return .rejected("longer than \(bound) nodes")
    case .readFailed: return .rejected("node \(Hex.format(chain.nodes.last ?? first)) link unreadable")
    }
    let count = chain.nodes.count
    return .accepted(.strong, "null-terminated list of \(count) checked node\(count == 1 ? "" : "s")")
  }

  /// Checks an array of `slots` EX_FAST_REF values whose live entries point (low bits masked) to
  /// blocks holding a routine at `functionOffset`.
  public func checkFastRefArray(_ head: UInt64, slots: Int, functionOffset: UInt64) -> ShapeVerdict {
    guard let array = try? kernel.space.fastRefSlots(at: head, count: slots) else {
      return .rejected("array unreadable")
    }
    var live = 0
    for entry in array where entry.value != 0 {
      let (slot, value, block) = (entry.index, entry.value, entry.object)
      guard isKernelPointer(block) else {
        return .rejected("slot \(slot) = \(Hex.format(value)) is not an EX_FAST_REF")
      }
      guard let routine = pointer(block &+ functionOffset) else {
        return .rejected("slot \(slot): block \(Hex.format(block)) unreadable")
      }
      guard isPlausibleRoutine(routine) else {
        return .rejected("slot \(slot): block's routine \(Hex.format(routine)) is not code")
      }
      live += 1
    }
    if live == 0 { return .accepted(.weak, "\(slots) null EX_FAST_REF slots") }
    return .accepted(.strong, "\(slots)-slot EX_FAST_REF array, \(live) live slot\(live == 1 ? "" : "s") with routines")
  }

  /// Checks a table of `count` pointers, each null or a plausible routine (after `skip` leading bytes).
  public func checkRoutineTable(_ head: UInt64, count: Int, skip: UInt64 = 0) -> ShapeVerdict {
    var live = 0
    for i in 0..<count {
      guard let value = pointer(head &+ skip &+ UInt64(i) &* pointerSize) else {
        return .rejected("entry \(i) unreadable")
      }
      guard value != 0 else { continue }
      guard isPlausibleRoutine(value) else { return .rejected("entry \(i) = \(Hex.format(value)) is not code") }
      live += 1
    }
    if live == 0 { return .accepted(.weak, "\(count) null routine pointers") }
    return .accepted(.strong, "table of \(count) routine pointers, \(live) set")
  }
}
