// Translation on real hardware page tables: the Debian guests of ../shared/realguest (QEMU captures).
// Each ELF core's first PT_LOAD (RAM from physical 0, located with llvm-readobj) is cut out with dd
// into a raw file; every truth entry (QEMU's own gva2gpa, xp and info tlb) must translate to the same
// physical address, bytes and page size, and every truth unmapped address must be reported not mapped.

import AddressSpace
import BinaryReading
import Foundation
import MemoryImage
import TestData
import Testing

enum RealGuest {
  /// The raw RAM of capture `name`, made once per machine in the test-data cache.
  static func rawImage(_ name: String) throws -> RawImage {
    let elf = try TestData.decompressed("realguest/\(name).elf.xz")
    let out = TestData.cacheDir.appendingPathComponent("\(name).ram-from-elf.raw").path
    if !FileManager.default.fileExists(atPath: out) {
      let headers = try TestData.run("llvm-readobj", ["--program-headers", elf])
      guard headers.status == 0 else { throw TestDataError.tool("llvm-readobj failed: \(headers.stderr)") }
      let (offset, size) = try firstLoad(headers.stdout)
      let part = out + ".\(UUID().uuidString).part"
      let dd = try TestData.run(
        "dd",
        [
          "if=\(elf)", "of=\(part)", "bs=4096", "iflag=skip_bytes,count_bytes", "skip=\(offset)", "count=\(size)",
          "conv=sparse", "status=none",
        ])
      guard dd.status == 0 else { throw TestDataError.tool("dd failed: \(dd.stderr)") }
      guard rename(part, out) == 0 else { throw TestDataError.tool("rename to \(out) failed") }
    }
    return RawImage(file: try MappedFile(path: out))
  }

  /// File offset and size of the PT_LOAD whose physical address is 0, from llvm-readobj's LLVM-style output.
  static func firstLoad(_ text: String) throws -> (UInt64, UInt64) {
    for block in text.components(separatedBy: "ProgramHeader {").dropFirst() {
      var fields: [String: String] = [:]
      for line in block.split(separator: "\n") {
        let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.count == 2 { fields[parts[0]] = parts[1] }
      }
      guard fields["Type"]?.hasPrefix("PT_LOAD") == true, fields["PhysicalAddress"] == "0x0",
        let offset = fields["Offset"].flatMap({ Hex.parse($0) }), let size = fields["FileSize"].flatMap({ UInt64($0) })
      else { continue }
      return (offset, size)
    }
    throw TestDataError.tool("no PT_LOAD at physical 0 in llvm-readobj output")
  }

  static func truth(_ name: String) throws -> [String: Any] {
    let any = try TestData.json(TestData.shared("realguest/\(name).truth.json").path)
    guard let dict = any as? [String: Any] else { throw TestDataError.tool("truth is not an object") }
    return dict
  }

  static func mode(_ truth: String?) -> PagingMode? {
    switch truth {
    case "4level": return .x64FourLevel
    case "5level": return .x64FiveLevel
    case "pae": return .x86PAE
    default: return nil
    }
  }
}

@Suite(.serialized) struct RealGuestTests {
  @Test(arguments: ["amd64_4l_kaslr", "amd64_5l_nokaslr", "i386_pae_nokaslr"])
  func truthEntriesTranslate(_ name: String) throws {
    let truth = try RealGuest.truth(name)
    let image = try RealGuest.rawImage(name)
    #expect(image.fileSize == 0x1000_0000)
    let mode = try #require(RealGuest.mode(truth["paging_mode"] as? String))
    let cr3 = try #require(TestData.hex(truth["cr3"]))
    // README: mask the low 12 bits and bit 63 of the raw CR3.
    let space = VirtualAddressSpace(memory: image, dtb: cr3 & ~0xfff & ~(1 << 63), mode: mode)
    let entries = try #require(truth["entries"] as? [[String: Any]])
    #expect(entries.count >= 40)
    for entry in entries {
      let label = entry["symbol"] as? String ?? "?"
      let va = try #require(TestData.hex(entry["va"]))
      let pa = try #require(TestData.hex(entry["pa"]))
      let pageSize = try #require(TestData.hex(entry["page_size"]))
      let bytes16 = try #require(entry["bytes16"] as? String)
      let t = try space.translate(va)
      #expect(t.physical == pa, "\(name) \(label)")
      #expect(t.pageSize == pageSize, "\(name) \(label)")
      let read = try space.read(va, count: 16)
      #expect(read.map { String(format: "%02x", $0) }.joined() == bytes16, "\(name) \(label)")
    }
    let unmapped = try #require(truth["unmapped"] as? [[String: Any]])
    #expect(unmapped.count >= 5)
    for item in unmapped {
      let va = try #require(TestData.hex(item["va"]))
      #expect(!space.isMapped(va))
      let label = item["label"] as? String ?? ""
      if mode == .x64FourLevel, label.contains("non-canonical under 4-level") {
        #expect(throws: TranslationError.nonCanonical(va: va)) { try space.translate(va) }
        continue
      }
      #expect {
        _ = try space.translate(va)
      } throws: { error in
        guard case .notMapped(let v, let level, _, _) = error as? TranslationError else { return false }
        return v == va && ["PML5", "PML4", "PDPT", "PD", "PT"].contains(level.name)
      }
    }
  }

  /// Enumeration of the kernel half finds, for every truth entry, the leaf that covers it, with QEMU's
  /// physical address and page size; leaves ascend and do not overlap.
  @Test(arguments: ["amd64_4l_kaslr", "amd64_5l_nokaslr", "i386_pae_nokaslr"])
  func enumerationCoversTruthEntries(_ name: String) throws {
    let truth = try RealGuest.truth(name)
    let mode = try #require(RealGuest.mode(truth["paging_mode"] as? String))
    let cr3 = try #require(TestData.hex(truth["cr3"]))
    let space = VirtualAddressSpace(memory: try RealGuest.rawImage(name), dtb: cr3 & ~0xfff & ~(1 << 63), mode: mode)
    let entries = try #require(truth["entries"] as? [[String: Any]])
    let vas = entries.compactMap { TestData.hex($0["va"]) }
    let low = try #require(vas.min())
    let high = try #require(vas.max())
    var leaves: [Translation] = []
    space.forEachMappedPage(in: low...high) {
      leaves.append($0); return leaves.count < 2_000_000
    }
    #expect(leaves.count < 2_000_000)
    for (a, b) in zip(leaves, leaves.dropFirst()) {
      #expect(a.virtual &+ a.pageSize <= b.virtual)
    }
    /// The last leaf starting at or below `va`.
    func leaf(covering va: UInt64) -> Translation? {
      var lo = 0
      var hi = leaves.count
      while lo < hi {
        let mid = (lo + hi) / 2
        if leaves[mid].virtual <= va { lo = mid + 1 } else { hi = mid }
      }
      return lo > 0 ? leaves[lo - 1] : nil
    }
    for entry in entries {
      let va = try #require(TestData.hex(entry["va"]))
      let pa = try #require(TestData.hex(entry["pa"]))
      let size = try #require(TestData.hex(entry["page_size"]))
      let leaf = try #require(leaf(covering: va), "\(name) \(entry["symbol"] ?? "?")")
      #expect(va - leaf.virtual < leaf.pageSize, "\(name) \(entry["symbol"] ?? "?")")
      #expect(leaf.pageSize == size && leaf.physical + (va - leaf.virtual) == pa, "\(name) \(entry["symbol"] ?? "?")")
    }
    let unmapped = try #require(truth["unmapped"] as? [[String: Any]])
    for va in unmapped.compactMap({ TestData.hex($0["va"]) }) where (low...high).contains(va) {
      if let l = leaf(covering: va) { #expect(va - l.virtual >= l.pageSize, "\(name) \(va)") }
    }
  }

  /// Linux keeps no self-map, so its real tables (full of page tables mapping their own frames) must
  /// give no Windows DTB candidate.
  @Test(arguments: ["amd64_4l_kaslr", "i386_pae_nokaslr"])
  func noWindowsSelfMapInLinux(_ name: String) throws {
    #expect(DTBScanner.scan(try RealGuest.rawImage(name)).isEmpty)
  }
}
