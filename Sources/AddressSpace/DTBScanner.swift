// Discovery of the kernel's directory table base in physical memory, for images that do not state it.
//
// Signals, strongest first:
// - x64 low stub: PROCESSOR_START_BLOCK in the first 1 MiB (WRK amd64.h; Volatility 3
//   constants/windows and MemProcFS's "low stub" DTB search): 8 bytes `E9 ?? 06 00 01 00 00 00`
//   (Jmp.OpCode, Jmp.Offset, CompletionFlag = 1), LmTarget (a kernel address) at +0x70 and
//   ProcessorState.SpecialRegisters.Cr3 at +0xA0.
// - Windows self-map: the x64 PML4 has one entry pointing at itself (index 0x1ED before Windows 10
//   1607, a random kernel-half index 0x100-0x1FF since); 32-bit paging maps PDE 0x300 (0xC0000000) to
//   the directory itself; PAE makes the PD of 0xC0000000 hold the four PDs in entries 0..3, so PTEs
//   appear at 0xC0000000 and PDEs at 0xC0600000 (Windows Internals, "Page tables and PTEs").
// Every candidate is then checked for plausibility: present entries whose targets lie in memory.

import BinaryReading
import MemoryImage

/// Finds directory table base candidates in physical memory.
public enum DTBScanner {
  /// Ranked candidates (best first, at most `limit`). Stops as soon as a candidate is confirmed by the
  /// low stub or passes every plausibility check, so a typical image is answered from its first pages.
  public static func scan(
    _ memory: any PhysicalMemory, modes: [PagingMode] = [.x64FourLevel, .x86PAE, .x86], limit: Int = 8
  ) -> [DTBCandidate] {
    var scan = Scan(memory: memory, modes: modes)
    scan.run()
    return Array(scan.ranked.prefix(max(limit, 0)))
  }

  /// Reads the low stub in the first 1 MiB; returns the kernel CR3 it records and where it was found.
  public static func lowStub(_ memory: any PhysicalMemory) -> (stub: UInt64, cr3: UInt64, lmTarget: UInt64)? {
    for page in stride(from: UInt64(0x1000), to: 0x10_0000, by: 0x1000) {  // 255 pages
      guard let head = try? memory.readUInt64(at: page),
        head & 0xffff_ffff_ffff_00ff == 0x0000_0001_0006_00e9,
        let lmTarget = try? memory.readUInt64(at: page + 0x70),
        lmTarget & 0xffff_f800_0000_0003 == 0xffff_f800_0000_0000,
        let cr3 = try? memory.readUInt64(at: page + 0xa0),
        cr3 & 0xffff_ff00_0000_0fff == 0, cr3 != 0
      else { continue }
      return (page, cr3, lmTarget)
    }
    return nil
  }
}

/// One scan's state.
private struct Scan {
  let memory: any PhysicalMemory
  let modes: [PagingMode]
  var found: [DTBCandidate] = []
  /// PAE page directories for 0xC0000000 that map themselves: (PD3 address, PD0..PD3 frames).
  var paeDirectories: [(pd3: UInt64, frames: [UInt64])] = []
  /// Set when a candidate passed every check (self-reference, no user-half entries, every target in
  /// memory, no junk entries): the kernel's own table. It ends the scan.
  var confirmed = false

  /// A candidate and whether it passed every check.
  struct Evaluation {
    var candidate: DTBCandidate
    var confirmed: Bool
  }

  init(memory: any PhysicalMemory, modes: [PagingMode]) {
    self.memory = memory
    self.modes = modes
  }

  var x64Mode: PagingMode? { modes.first { $0 == .x64FourLevel || $0 == .x64FiveLevel } }

  var ranked: [DTBCandidate] {
    found.sorted { $0.score != $1.score ? $0.score > $1.score : $0.dtb < $1.dtb }
  }

  mutating func run() {
    if let mode = x64Mode, let stub = DTBScanner.lowStub(memory) {
      let root = stub.cr3 & 0x000f_ffff_ffff_f000
      let prefix = "low stub at \(hex(stub.stub)) (LmTarget \(hex(stub.lmTarget)), Cr3 \(hex(stub.cr3)))"
      if var c = evaluateX64(root, mode: mode, anyIndex: true) {
        let e = c.candidate
        c.candidate = DTBCandidate(
          dtb: e.dtb, mode: mode, score: e.score + 1000, reason: prefix + "; " + e.reason, selfRefIndex: e.selfRefIndex)
        found.append(c.candidate)
        if c.candidate.selfRefIndex != nil { return }
      }
    }
    scanPages()
    if !confirmed, modes.contains(.x86PAE), !paeDirectories.isEmpty { findPDPTs() }
  }

  /// One pass over every backed page, checking each mode's self-map signature.
  mutating func scanPages() {
    let x64 = x64Mode
    let nonPAE = modes.contains(.x86)
    let pae = modes.contains(.x86PAE)
    for range in memory.ranges {
      let (roundedStart, o1) = range.start.addingReportingOverflow(0xfff)
      if o1 { continue }
      var page = roundedStart & ~0xfff
      while page < range.end, range.end &- page >= 0x1000 {  // page < end, so end - page cannot wrap
        if let x64, let index = x64SelfIndex(page), let c = evaluateX64(page, mode: x64, anyIndex: false, known: index)
        {
          found.append(c.candidate)
          if c.confirmed { confirmed = true }
        }
        if nonPAE, let c = evaluateX86(page) {
          found.append(c.candidate)
          if c.confirmed { confirmed = true }
        }
        if confirmed { return }
        if pae { notePAEDirectory(page) }
        page &+= 0x1000  // page < end ≤ 2^64 - 1 and page + 4096 ≤ end was checked
      }
    }
  }

  /// The kernel-half index (0x100-0x1FF) of an x64 entry that points at `page` itself, if any.
  func x64SelfIndex(_ page: UInt64) -> Int? {
    guard let half = try? memory.read(at: page &+ 0x800, count: 0x800), half.count == 0x800 else { return nil }
    return half.withUnsafeBytes { raw -> Int? in
      for i in 0..<256 {
        let e = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self))
        // present, writable, supervisor, frame == the page itself
        if e & 0x000f_ffff_ffff_f007 == page | 0x3 { return 0x100 &+ i }
      }
      return nil
    }
  }

  /// Checks an x64 root table at `page`: self-reference, kernel- and user-half entries, their targets.
  func evaluateX64(_ page: UInt64, mode: PagingMode, anyIndex: Bool, known: Int? = nil) -> Evaluation? {
    guard let table = try? memory.read(at: page, count: 0x1000), table.count == 0x1000 else { return nil }
    let entries: [UInt64] = table.withUnsafeBytes { raw in
      (0..<512).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 &* 8, as: UInt64.self)) }
    }
    var selfIndex = known
    if selfIndex == nil {
      let range = anyIndex ? 0..<512 : 256..<512
      selfIndex = range.first { entries[$0] & 0x000f_ffff_ffff_f007 == page | 0x3 }
    }
    var kernel = 0
    var user = 0
    var outside = 0
    var garbage = 0
    var runs = 0  // entries whose frame follows the previous entry's: the shape of a leaf table
    for (i, e) in entries.enumerated() where i != selfIndex && e != 0 {
      guard e & 1 != 0 else {
        garbage &+= 1
        continue
      }
      // PS (bit 7) is reserved in a PML4E (SDM table 4-15): a set bit means this is a lower-level table.
      if e & 0x80 != 0 { return nil }
      if i < 256 { user &+= 1 } else { kernel &+= 1 }
      let frame = e & 0x000f_ffff_ffff_f000
      if !memory.isBacked(frame) { outside &+= 1 }
      if i > 0, entries[i &- 1] & 1 != 0, frame == (entries[i &- 1] & 0x000f_ffff_ffff_f000) &+ 0x1000 { runs &+= 1 }
    }
    let present = kernel &+ user
    // A root table has a few dozen entries per half at most; hundreds are a page table or data.
    guard kernel > 0, kernel <= 200, user <= 64, outside * 2 <= present, garbage <= 64,
      runs < 8 || runs * 2 <= present
    else { return nil }
    var score = 100 + min(kernel, 40) - 20 * outside - 5 * garbage
    if selfIndex != nil { score += 100 } else { score -= 50 }
    if user == 0 { score += 20 }
    var reason =
      selfIndex.map { "PML4 self-reference at index \(hex(UInt64($0)))" } ?? "no PML4 self-reference"
    reason += "; \(kernel) kernel-half and \(user) user-half entries present"
    reason += outside == 0 ? ", all targets in memory" : ", \(outside) target(s) outside memory"
    if garbage > 0 { reason += "; \(garbage) non-present non-zero entries" }
    return Evaluation(
      candidate: DTBCandidate(dtb: page, mode: mode, score: score, reason: reason, selfRefIndex: selfIndex),
      confirmed: selfIndex != nil && user == 0 && outside == 0 && garbage == 0)
  }

  /// Checks a 32-bit page directory at `page` whose PDE 0x300 maps itself.
  func evaluateX86(_ page: UInt64) -> Evaluation? {
    guard let selfEntry = try? memory.readUInt32(at: page &+ 0xc00),
      UInt64(selfEntry) & 0xffff_f083 == page | 0x3  // present, writable, not a 4 MiB page, frame == page
    else { return nil }
    guard let table = try? memory.read(at: page, count: 0x1000), table.count == 0x1000 else { return nil }
    let entries: [UInt32] = table.withUnsafeBytes { raw in
      (0..<1024).map { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 &* 4, as: UInt32.self)) }
    }
    var kernel = 0
    var user = 0
    var outside = 0
    var garbage = 0
    var runs = 0
    for (i, e) in entries.enumerated() where i != 0x300 && e != 0 {
      guard e & 1 != 0 else {
        garbage &+= 1
        continue
      }
      if i < 0x200 { user &+= 1 } else { kernel &+= 1 }
      let target = e & 0x80 != 0 ? UInt64(e & 0xffc0_0000) : UInt64(e & 0xffff_f000)
      if !memory.isBacked(target) { outside &+= 1 }
      if i > 0, e & 0x80 == 0, entries[i &- 1] & 0x81 == 0x1,
        e & 0xffff_f000 == (entries[i &- 1] & 0xffff_f000) &+ 0x1000
      {
        runs &+= 1
      }
    }
    let present = kernel &+ user
    // A page table mapping consecutive frames (a direct map) is not a directory.
    guard kernel > 0, outside * 2 <= present, garbage <= 128, runs < 8 || runs * 4 <= present * 3
    else { return nil }
    let score = 200 + min(kernel, 40) - 20 * outside - 5 * garbage + (user == 0 ? 20 : 0)
    var reason = "PDE 0x300 maps the directory itself; \(kernel) kernel-half and \(user) user-half PDEs present"
    reason += outside == 0 ? ", all targets in memory" : ", \(outside) target(s) outside memory"
    if garbage > 0 { reason += "; \(garbage) non-present non-zero entries" }
    return Evaluation(
      candidate: DTBCandidate(dtb: page, mode: .x86, score: score, reason: reason, selfRefIndex: 0x300),
      confirmed: user == 0 && outside == 0 && garbage == 0)
  }

  /// Remembers `page` if it can be the PAE PD for 0xC0000000: entry 3 maps it, entries 0..2 are present PDs.
  mutating func notePAEDirectory(_ page: UInt64) {
    guard paeDirectories.count < 4096,
      let e3 = try? memory.readUInt64(at: page &+ 0x18), e3 & 0x000f_ffff_ffff_f083 == page | 0x3
    else { return }
    var frames: [UInt64] = []
    for i in 0..<3 {
      guard let e = try? memory.readUInt64(at: page &+ UInt64(i &* 8)), e & 0x81 == 0x1 else { return }
      let frame = e & 0x000f_ffff_ffff_f000
      guard memory.isBacked(frame), frame != page, !frames.contains(frame) else { return }
      frames.append(frame)
    }
    paeDirectories.append((page, frames + [page]))
  }

  /// Finds the 32-byte PAE PDPTs whose four entries point at a remembered PD set.
  mutating func findPDPTs() {
    var byFirst: [UInt64: [Int]] = [:]
    for (i, d) in paeDirectories.enumerated() { byFirst[d.frames[0], default: []].append(i) }
    for range in memory.ranges {
      let (roundedStart, o1) = range.start.addingReportingOverflow(0xfff)
      if o1 { continue }
      var page = roundedStart & ~0xfff
      while page < range.end, range.end &- page >= 0x1000 {  // as in scanPages
        if let bytes = try? memory.read(at: page, count: 0x1000), bytes.count == 0x1000 {
          let hits: [(Int, Int)] = bytes.withUnsafeBytes { raw in
            var hits: [(Int, Int)] = []
            for slot in 0..<128 {
              let e0 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: slot &* 32, as: UInt64.self))
              // PDPTE (SDM table 4-8): present, bits 1, 2, 5..8 and 63 reserved (zero).
              guard e0 & 0x8000_0000_0000_01e7 == 0x1, let ds = byFirst[e0 & 0x000f_ffff_ffff_f000] else { continue }
              for d in ds
              where (1..<4).allSatisfy({ k in
                let e = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: slot &* 32 &+ k &* 8, as: UInt64.self))
                return e & 0x8000_0000_0000_01e7 == 0x1 && e & 0x000f_ffff_ffff_f000 == paeDirectories[d].frames[k]
              }) {
                hits.append((slot, d))
              }
            }
            return hits
          }
          for (slot, d) in hits {
            let pdpt = page &+ UInt64(slot &* 32)
            let pd3 = paeDirectories[d].pd3
            found.append(
              DTBCandidate(
                dtb: pdpt, mode: .x86PAE, score: 250,
                reason: "PAE PDPT whose 4th PD (\(hex(pd3))) maps the four PDs at entries 0..3", selfRefIndex: 3))
            if found.count >= 64 { return }
          }
        }
        page &+= 0x1000  // as in scanPages
      }
    }
  }

  func hex(_ v: UInt64) -> String { Hex.format(v) }
}
