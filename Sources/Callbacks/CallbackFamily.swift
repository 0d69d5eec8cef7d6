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
  /// The object manager, when its symbols are present.
  public let objects: ObjectManager?

  /// `readObjects: false` skips the object manager (trial contexts of the locators that read
  /// families which name no object).
  public init(kernel: Kernel, build: Int, readObjects: Bool = true) {
    self.kernel = kernel
    self.build = build
    self.layouts = UndocumentedLayouts(pointerSize: kernel.pointerSize, build: build)
    self.objects = readObjects ? try? ObjectManager(kernel: kernel) : nil
  }

  /// Size of a pointer.
  public var pointerSize: UInt64 { UInt64(kernel.pointerSize) }

  /// The head's address and the provenance of the symbol that located it.
  public func head(_ symbol: String) throws(WindowsKernelError) -> (address: UInt64, provenance: Provenance) {
    guard let info = kernel.profile.symbol(symbol) else { throw kernel.missing(symbol) }
    return (kernel.image.base &+ info.rva, info.provenance)
  }

  /// A member's offset from the profile when the PDB has the type, else from the declared public
  /// layout (e.g. wdm.h records that ntoskrnl's PDB does not describe).
  public func offset(_ structName: String, _ field: String, declared: CStructLayout) -> UInt64 {
    if let info = kernel.profile.field(structName, field), info.offset >= 0 { return UInt64(info.offset) }
    return declared[field]
  }

  /// Reads a pointer, or nil when unreadable.
  public func pointer(_ va: UInt64) -> UInt64? { try? kernel.readPointer(va) }

  /// Reads a NUL-terminated ASCII string of at most `limit` bytes (bugcheck component names).
  public func cString(_ va: UInt64, limit: Int = 64) -> String? {
    guard va != 0 else { return nil }
    var bytes: [UInt8] = []
    var at = va
    while bytes.count < limit {
      // Read up to the page end at a time so a string near a page boundary still reads.
      let chunk = min(limit - bytes.count, Int(0x1000 - (at & 0xfff)))
      guard let part = try? kernel.read(at, count: chunk) else { break }
      if let nul = part.firstIndex(of: 0) {
        bytes += part[..<nul]
        return String(decoding: bytes, as: UTF8.self)
      }
      bytes += part
      at &+= UInt64(chunk)  // bounded by limit
    }
    return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
  }

  /// Reads a GUID (16 bytes) as `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX`.
  public func guid(_ va: UInt64) -> String? {
    guard let b = try? kernel.read(va, count: 16) else { return nil }
    let d1 = Hex.upper([b[3], b[2], b[1], b[0]])
    let d2 = Hex.upper([b[5], b[4]])
    let d3 = Hex.upper([b[7], b[6]])
    return "\(d1)-\(d2)-\(d3)-\(Hex.upper(Array(b[8..<10])))-\(Hex.upper(Array(b[10..<16])))"
  }

  /// Walks a LIST_ENTRY list (forward, then backward around a broken link; see RobustListWalk).
  public func list(_ head: UInt64, what: String, bound: Int = 10_000) -> RecoveredList {
    RobustListWalk.entries(space: kernel.space, head: head, bound: bound, what: what)
  }

  /// Walks a singly linked list whose `Next` pointer is at `nextOffset` of each node, starting from
  /// the pointer stored at `head`; bounded and cycle-safe.
  public func singlyLinked(head: UInt64, nextOffset: UInt64, bound: Int = 10_000) -> (nodes: [UInt64], warning: String?)
  {
    var nodes: [UInt64] = []
    var seen: Set<UInt64> = []
    guard var node = pointer(head) else { return ([], "list head at \(Hex.format(head)) unreadable") }
    while node != 0 {
      guard seen.insert(node).inserted else {
        return (nodes, "list at \(Hex.format(head)) loops at \(Hex.format(node))")
      }
      guard nodes.count < bound else { return (nodes, "list at \(Hex.format(head)) longer than \(bound)") }
      nodes.append(node)
      guard let next = pointer(node &+ nextOffset) else {
        return (nodes, "node at \(Hex.format(node)) unreadable")
      }
      node = next
    }
    return (nodes, nil)
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
