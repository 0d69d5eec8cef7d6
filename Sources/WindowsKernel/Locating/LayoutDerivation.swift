// Finds, in the System process's EPROCESS, the offsets of the fields the process model needs when
// lent layouts do not fit: UniqueProcessId (pointer-sized 4) with ActiveProcessLinks right after it,
// ImageFileName ("System"), KPROCESS.DirectoryTableBase (the DTB), each confirmed on the next
// process of the list. Every search is bounded by a window at the start of the EPROCESS; a field
// with no candidate, or with two, is not derived.

import BinaryReading
import Symbols

/// Derivation of public EPROCESS/KPROCESS field offsets from the data.
public enum LayoutDerivation {
  /// Bytes of the System EPROCESS searched (every build's EPROCESS fields CallScope reads lie below).
  public static let window = 0x1000

  /// Why a field could not be derived.
  public struct Failure: Error, Sendable, CustomStringConvertible {
    /// `_EPROCESS.UniqueProcessId` and the like.
    public let field: String
    /// What was searched and what failed (no candidate, or several).
    public let reason: String
    public var description: String { "\(field) could not be derived from the data: \(reason)" }
  }

  /// The derived offsets of `_EPROCESS.UniqueProcessId`, `.ActiveProcessLinks`, `.ImageFileName`
  /// and `_KPROCESS.DirectoryTableBase`, each with its evidence; lent offsets (`kernel`'s profile)
  /// are used only for `_EPROCESS.Pcb` and the KPROCESS size bounding the DTB search.
  public static func derive(kernel: Kernel) throws(Failure) -> [DerivedField] {
    let system = try systemProcess(kernel)
    let bytes = readWindow(kernel, at: system)
    let ps = kernel.pointerSize
    func word(_ offset: Int) -> UInt64? {
      guard offset >= 0, offset <= bytes.count - ps else { return nil }
      var value: UInt64 = 0
      for i in 0..<ps { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
      return value
    }
    let links = try processLinks(kernel, system: system, word: word)
    let name = try imageFileName(kernel, bytes: bytes, next: links.next)
    let dtb = try directoryTableBase(kernel, next: links.next, word: word)
    let nextText = "next process EPROCESS \(Hex.format(links.next))"
    return [
      DerivedField(
        structName: "_EPROCESS", field: "UniqueProcessId", offset: links.pid,
        evidence: "System EPROCESS \(Hex.format(system)) holds pointer-sized 4 here; \(nextText) holds pid "
          + "\(links.nextPid)"),
      DerivedField(
        structName: "_EPROCESS", field: "ActiveProcessLinks", offset: links.pid + ps,
        evidence: "right after UniqueProcessId; Flink \(Hex.format(links.flink)) → Blink returns"),
      DerivedField(
        structName: "_EPROCESS", field: "ImageFileName", offset: name.offset,
        evidence: "\"System\\0\" in System's EPROCESS; \(nextText) reads \"\(name.next)\""),
      DerivedField(
        structName: "_KPROCESS", field: "DirectoryTableBase", offset: dtb.offset,
        evidence: "first pointer-sized value of KPROCESS equal to the DTB \(Hex.format(kernel.space.dtb)); "
          + "\(nextText) holds \(Hex.format(dtb.next))"),
    ]
  }

  static func systemProcess(_ kernel: Kernel) throws(Failure) -> UInt64 {
    let what = "_EPROCESS (System process)"
    guard let variable = try? kernel.address(of: "PsInitialSystemProcess") else {
      throw Failure(field: what, reason: "PsInitialSystemProcess is not exported")
    }
    guard let system = try? kernel.readPointer(variable), kernel.isKernelAddress(system) else {
      throw Failure(field: what, reason: "PsInitialSystemProcess does not point into kernel space")
    }
    return system
  }

  /// The window's bytes, up to the first unreadable page (an EPROCESS near a page's end may be
  /// followed by an unmapped page).
  static func readWindow(_ kernel: Kernel, at va: UInt64) -> [UInt8] {
    var bytes: [UInt8] = []
    var cursor = va
    while bytes.count < window {
      let inPage = 0x1000 - Int(cursor & 0xfff)
      let count = min(inPage, window - bytes.count)
      guard let chunk = try? kernel.read(cursor, count: count) else { break }
      bytes += chunk
      cursor &+= UInt64(count)
    }
    return bytes
  }

  struct Links {
    let pid: Int
    let flink, next, nextPid: UInt64
  }

  /// A pointer-sized 4 followed by a LIST_ENTRY whose Flink→Blink returns, and whose next entry
  /// holds a plausible pid at the same distance before its links.
  static func processLinks(_ kernel: Kernel, system: UInt64, word: (Int) -> UInt64?) throws(Failure) -> Links {
    let ps = kernel.pointerSize
    var found: [Links] = []
    var tried = 0
    for offset in stride(from: 0, to: window, by: ps) where word(offset) == 4 {
      tried += 1
      let linksOffset = offset + ps
      let linksVA = system &+ UInt64(linksOffset)
      guard let flink = word(linksOffset), flink != linksVA, kernel.isKernelAddress(flink),
        let back = try? kernel.readPointer(flink &+ UInt64(ps)), back == linksVA
      else { continue }
      let next = flink &- UInt64(linksOffset)
      guard let nextPid = try? kernel.readPointer(next &+ UInt64(offset)), nextPid != 4, nextPid != 0,
        nextPid % 4 == 0, nextPid < 0x1_0000_0000
      else { continue }
      found.append(Links(pid: offset, flink: flink, next: next, nextPid: nextPid))
    }
    let field = "_EPROCESS.UniqueProcessId/ActiveProcessLinks"
    guard let first = found.first else {
      throw Failure(
        field: field,
        reason: "none of \(tried) pointer-sized 4s in the first \(Hex.format(UInt64(window))) bytes of the System "
          + "EPROCESS \(Hex.format(system)) is followed by a LIST_ENTRY that round-trips to a process with a plausible pid"
      )
    }
    guard found.count == 1 else {
      throw Failure(field: field, reason: "ambiguous: candidates at \(found.map { Hex.format(UInt64($0.pid)) })")
    }
    return first
  }

  /// "System\0" in the window whose offset, in the next process, holds a printable name.
  static func imageFileName(_ kernel: Kernel, bytes: [UInt8], next: UInt64) throws(Failure) -> (
    offset: Int, next: String
  ) {
    let system = Array("System".utf8) + [0]
    var found: [(Int, String)] = []
    var matches = 0
    for offset in 0..<max(0, bytes.count - 15) where bytes[offset..<offset + system.count].elementsEqual(system) {
      matches += 1
      guard let other = try? kernel.read(next &+ UInt64(offset), count: 15) else { continue }
      let name = other.prefix { $0 != 0 }
      guard !name.isEmpty, name.allSatisfy({ (0x20...0x7e).contains($0) }) else { continue }
      found.append((offset, String(decoding: name, as: UTF8.self)))
    }
    let field = "_EPROCESS.ImageFileName"
    guard let first = found.first else {
      throw Failure(
        field: field,
        reason: "\(matches) \"System\\0\" in the System EPROCESS, none with a printable name in the next process")
    }
    guard found.count == 1 else {
      throw Failure(field: field, reason: "ambiguous: candidates at \(found.map { Hex.format(UInt64($0.0)) })")
    }
    return (first.0, first.1)
  }

  /// The first pointer-sized value of the KPROCESS (EPROCESS.Pcb, bounded by the lent KPROCESS
  /// size) equal to the DTB, with a non-zero DTB-like value at the same offset of the next process.
  static func directoryTableBase(_ kernel: Kernel, next: UInt64, word: (Int) -> UInt64?) throws(Failure) -> (
    offset: Int, next: UInt64
  ) {
    let field = "_KPROCESS.DirectoryTableBase"
    guard let pcb = try? kernel.offset("_EPROCESS", "Pcb"), pcb < UInt64(window) else {
      throw Failure(field: field, reason: "_EPROCESS.Pcb is not in the lent layouts")
    }
    // The lent layouts always describe _KPROCESS; without its size the search has no honest bound.
    guard let kprocess = try? kernel.size(of: "_KPROCESS") else {
      throw Failure(field: field, reason: "_KPROCESS's size is not in the lent layouts")
    }
    let size = min(Int(kprocess), window - Int(pcb))
    let ps = kernel.pointerSize
    let dtb = kernel.space.dtb & ~0xfff
    for offset in stride(from: 0, to: size, by: ps) {
      guard let value = word(Int(pcb) + offset), value != 0, value & ~0xfff == dtb else { continue }
      guard let other = try? kernel.readPointer(next &+ pcb &+ UInt64(offset)), other & ~0xfff != 0 else {
        throw Failure(
          field: field,
          reason: "the DTB at KPROCESS+\(Hex.format(UInt64(offset))) has no counterpart in the next process")
      }
      return (offset, other)
    }
    throw Failure(
      field: field,
      reason: "no pointer-sized value of the System KPROCESS equals the DTB \(Hex.format(kernel.space.dtb))")
  }
}
