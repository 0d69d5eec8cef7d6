// The protocol every callback family implements, and the shared context they read through.

import AddressSpace
import BinaryReading
import Symbols
import WindowsKernel

/// Everything a family needs: the kernel, its build, layouts and the object manager.
public final class CallbackContext: Sendable {
  public let kernel: Kernel
  /// Build number (e.g. 19041), 0 when unknown.
  public let build: Int
  public let layouts: UndocumentedLayouts
  /// The kernel's profile with the declared layouts merged after it (CompositeProfile).
  public let profile: any KernelProfile
  /// The object manager, when its symbols are present.
  public let objects: ObjectManager?
  /// Why `objects` is nil when it was asked for and could not be opened.
  public let objectsError: String?
  /// A kernel module's own symbol file (fltmgr.pdb …) when the caller can find one: families whose
  /// structures live in another module take that module's variables and layouts from it.
  public let moduleProfile: @Sendable (LoadedModule) -> (any KernelProfile)?

  /// `readObjects: false` skips the object manager (trial contexts of the locators that read
  /// families which name no object).
  public init(
    kernel: Kernel, build: Int, readObjects: Bool = true,
    moduleProfile: @escaping @Sendable (LoadedModule) -> (any KernelProfile)? = { _ in nil }
  ) {
    self.kernel = kernel
    self.moduleProfile = moduleProfile
    self.build = build
    let layouts = UndocumentedLayouts(pointerSize: kernel.pointerSize, build: build)
    self.layouts = layouts
    self.profile = CompositeProfile.merging(
      [kernel.profile, layouts.profile(identity: kernel.profile.identity)], identity: kernel.profile.identity)
    var objects: ObjectManager?
    var objectsError: String?
    if readObjects {
      do { objects = try ObjectManager(kernel: kernel) } catch { objectsError = error.description }
    }
    self.objects = objects
    self.objectsError = objectsError
  }

  /// Size of a pointer.
  public var pointerSize: UInt64 { UInt64(kernel.pointerSize) }

  /// The head's address and the provenance of the symbol that located it.
  public func head(_ symbol: String) throws(WindowsKernelError) -> (address: UInt64, provenance: Provenance) {
    guard let info = kernel.profile.symbol(symbol) else { throw kernel.missing(symbol) }
    return (kernel.image.base &+ info.rva, info.provenance)
  }

  /// A member's offset from the merged profile: the symbol file when it has the type, else the
  /// declared public layout (e.g. wdm.h records that ntoskrnl's PDB does not describe); an error
  /// naming the member when neither has it.
  public func offset(_ structName: String, _ field: String) throws(WindowsKernelError) -> UInt64 {
    guard let info = profile.field(structName, field), info.offset >= 0 else {
      throw .undeclaredMember(structName: structName, member: field)
    }
    return UInt64(info.offset)
  }

  /// Detail reads of the record at `base` laid out by `layout`.
  public func fields(_ layout: CStructLayout, at base: UInt64) -> FieldReads { FieldReads(self, layout, at: base) }

  /// Reads a pointer, or nil when unreadable.
  public func pointer(_ va: UInt64) -> UInt64? { try? kernel.readPointer(va) }

  /// Reads a NUL-terminated ASCII string of at most `limit` bytes (bugcheck component names); nil
  /// for a null pointer, an unreadable first byte or an empty string.
  public func cString(_ va: UInt64, limit: Int = 64) -> String? {
    guard va != 0, let text = try? kernel.space.readCString(at: va, limit: limit), !text.isEmpty else { return nil }
    return text
  }

  /// Reads a GUID (16 bytes) as `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX`.
  public func guid(_ va: UInt64) -> String? { try? kernel.space.readGUID(at: va) }

  /// Walks a LIST_ENTRY list (forward, then backward around a broken link; see `recoveredList`).
  public func list(_ head: UInt64, what: String, bound: Int = 10_000) -> RecoveredList {
    kernel.space.recoveredList(head: head, bound: bound, what: what)
  }

  /// Walks a singly linked list whose `Next` pointer is at `nextOffset` of each node, starting from
  /// the pointer stored at `head`; bounded and cycle-safe.
  public func singlyLinked(head: UInt64, nextOffset: UInt64, bound: Int = 10_000) -> (nodes: [UInt64], warning: String?)
  {
    let walk = kernel.space.chain(head: head, nextOffset: nextOffset, bound: bound)
    switch walk.stop {
    case .nullTerminated: return (walk.nodes, nil)
    case .readFailed(let at, _) where at == head: return ([], "list head at \(Hex.format(head)) unreadable")
    case .readFailed(let at, _): return (walk.nodes, "node at \(Hex.format(at &- nextOffset)) unreadable")
    case .cycle, .bound: return (walk.nodes, "list at \(Hex.format(head)) \(walk.stop)")
    }
  }
}

/// A family of callbacks: knows where its registrations live and how to read them.
public protocol CallbackFamily: Sendable {
  /// The family ids this reader produces (one reader may serve several, e.g. shutdown queues).
  var ids: [String] { get }
  /// Reads the registrations. Never throws: a broken part becomes a warning, a missing head
  /// a `notLocated` result.
  func collect(_ context: CallbackContext) -> [FamilyResult]
}
