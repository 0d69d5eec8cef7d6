// The Windows 10 19041 reference image (../shared/images): DTB discovery, translation of known kernel
// addresses, a UNICODE_STRING at the ISF's offset, and the PsLoadedModuleList walk, against the truth.

import AddressSpace
import BinaryReading
import Foundation
import MemoryImage
import TestData
import Testing

/// Physical memory with a range hidden (reads there fail), to scan without the low stub.
final class HidingMemory: PhysicalMemory {
  let base: any PhysicalMemory
  let hidden: Range<UInt64>
  var formatName: String { base.formatName }
  var path: String { base.path }
  var fileSize: UInt64 { base.fileSize }
  let ranges: [PhysicalRange]

  init(_ base: any PhysicalMemory, hiding hidden: Range<UInt64>) {
    self.base = base
    self.hidden = hidden
    self.ranges = base.ranges.flatMap { r -> [PhysicalRange] in
      var out: [PhysicalRange] = []
      if r.start < hidden.lowerBound {
        out.append(PhysicalRange(start: r.start, length: min(r.end, hidden.lowerBound) - r.start))
      }
      if r.end > hidden.upperBound {
        let s = max(r.start, hidden.upperBound)
        out.append(PhysicalRange(start: s, length: r.end - s))
      }
      return out
    }
  }

  func read(at address: UInt64, count: Int) throws(MemoryImageError) -> [UInt8] {
    guard address >= hidden.upperBound || address &+ UInt64(max(count, 0)) <= hidden.lowerBound else {
      throw .notBacked(path: path, address: address, count: count)
    }
    return try base.read(at: address, count: count)
  }
}

enum WindowsImage {
  static let name = "win10-19041-clean"
  static let isf = "data/isf/ntkrnlmp.pdb/3177D31000BA7590DED335936C93E374-1.json.xz"

  static func image() throws -> RawImage {
    RawImage(file: try MappedFile(path: try TestData.decompressed("images/\(name).raw.xz")))
  }

  static func truth() throws -> [String: Any] {
    guard let t = try TestData.json(TestData.shared("images/\(name).truth.json").path) as? [String: Any] else {
      throw TestDataError.tool("truth is not an object")
    }
    return t
  }

  /// `struct.field` offsets read from the ISF with xz and python3 (independent of our code).
  static func isfOffsets(_ fields: [(String, String)]) throws -> [Int] {
    let wanted = fields.map { "d['user_types']['\($0.0)']['fields']['\($0.1)']['offset']" }.joined(separator: ",")
    let script = "import json,sys; d=json.load(sys.stdin); print(*[\(wanted)])"
    let path = TestData.shared(isf).path
    let r = try TestData.run("/bin/sh", ["-c", "xz -dc '\(path)' | python3 -c \"\(script)\""])
    guard r.status == 0 else { throw TestDataError.tool("ISF read failed: \(r.stderr)") }
    return r.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
  }
}

@Suite(.serialized) struct WindowsImageTests {
  @Test func scannerFindsTheKernelDTB() throws {
    let image = try WindowsImage.image()
    let truth = try WindowsImage.truth()
    let clock = ContinuousClock()
    var candidates: [DTBCandidate] = []
    let elapsed = clock.measure { candidates = DTBScanner.scan(image) }
    print("DTB scan of \(WindowsImage.name) (low stub present): \(elapsed)")
    let best = try #require(candidates.first)
    #expect(best.dtb == TestData.hex(truth["dtb"]))
    #expect(best.mode == .x64FourLevel)
    #expect(best.selfRefIndex.map(UInt64.init) == TestData.hex(truth["pml4_self_ref_index"]))
    #expect(best.reason.contains("low stub"))
    let stub = try #require(DTBScanner.lowStub(image))
    let lowStub = try #require(truth["low_stub"] as? [String: Any])
    #expect(stub.stub == TestData.hex(lowStub["pa"]))
    #expect(stub.lmTarget == TestData.hex(lowStub["LmTarget"]))
    #expect(stub.cr3 == TestData.hex(lowStub["Cr3"]))
  }

  @Test func scannerFindsTheKernelDTBWithoutTheLowStub() throws {
    let hidden = HidingMemory(try WindowsImage.image(), hiding: 0..<0x10_0000)
    let truth = try WindowsImage.truth()
    let clock = ContinuousClock()
    var candidates: [DTBCandidate] = []
    let elapsed = clock.measure { candidates = DTBScanner.scan(hidden) }
    print("DTB scan of \(WindowsImage.name) (first MiB hidden): \(elapsed)")
    #expect(DTBScanner.lowStub(hidden) == nil)
    let best = try #require(candidates.first)
    #expect(best.dtb == TestData.hex(truth["dtb"]))
    #expect(best.mode == .x64FourLevel)
    #expect(best.selfRefIndex.map(UInt64.init) == TestData.hex(truth["pml4_self_ref_index"]))
    #expect(!best.reason.contains("low stub"))
  }

  @Test func kernelAddressesTranslate() throws {
    let truth = try WindowsImage.truth()
    let space = VirtualAddressSpace(
      memory: try WindowsImage.image(), dtb: try #require(TestData.hex(truth["dtb"])), mode: .x64FourLevel)
    let kernelBase = try #require(TestData.hex(truth["kernel_base"]))
    let t = try space.translate(kernelBase)
    #expect(t.physical == TestData.hex(truth["kernel_phys"]))
    #expect(try space.readUInt16(kernelBase) == 0x5a4d)  // "MZ"
    let symbols = try #require(truth["symbols_used"] as? [String: Any])
    let processes = try #require(truth["processes"] as? [[String: Any]])
    let system = try #require(TestData.hex(symbols["PsInitialSystemProcess"]))
    #expect(try space.readPointer(system) == TestData.hex(processes.first?["eprocess"]))
    // The PTE self-map: PTE_BASE + (va >> 9 & ~7) holds the PTE of va; for PTE_BASE itself's table
    // page the walk goes through the self-referencing entry.
    let pteBase = try #require(TestData.hex(truth["pte_base"]))
    let pml4 = try space.translate(pteBase | (0x107 << 30) | (0x107 << 21) | (0x107 << 12))
    #expect(pml4.physical == TestData.hex(truth["dtb"]))
  }

  @Test func largeKernelPagesAreEnumerated() throws {
    let truth = try WindowsImage.truth()
    let space = VirtualAddressSpace(
      memory: try WindowsImage.image(), dtb: try #require(TestData.hex(truth["dtb"])), mode: .x64FourLevel)
    let mapping = try #require(truth["kernel_mapping"] as? [String: Any])
    let large = try #require((mapping["large_pages"] as? [String])?.compactMap { TestData.hex($0) })
    let first = try #require(large.first)
    let smallFrom = try #require(TestData.hex(mapping["small_pages_from"]))
    var pages: [Translation] = []
    space.forEachMappedPage(in: first...(smallFrom + 0x1000)) {
      pages.append($0); return true
    }
    #expect(pages.filter { $0.pageSize == 0x20_0000 }.map(\.virtual) == large)
    #expect(pages.last?.virtual == smallFrom + 0x1000 || pages.last?.virtual == smallFrom)
    #expect(pages.first { $0.virtual == smallFrom }?.pageSize == 0x1000)
  }

  @Test func moduleListAndFullDllName() throws {
    let truth = try WindowsImage.truth()
    let space = VirtualAddressSpace(
      memory: try WindowsImage.image(), dtb: try #require(TestData.hex(truth["dtb"])), mode: .x64FourLevel)
    let offsets = try WindowsImage.isfOffsets([
      ("_LDR_DATA_TABLE_ENTRY", "FullDllName"), ("_LDR_DATA_TABLE_ENTRY", "InLoadOrderLinks"),
      ("_LDR_DATA_TABLE_ENTRY", "BaseDllName"),
    ])
    try #require(offsets.count == 3)
    let modules = try #require(truth["modules"] as? [[String: Any]])
    let listed = modules.filter { $0["in_PsLoadedModuleList"] as? Bool == true }
    let first = try #require(modules.first)
    let ldr = try #require(TestData.hex(first["ldr_entry"]))
    #expect(try space.readUnicodeString(at: ldr + UInt64(offsets[0])) == first["full_name"] as? String)
    #expect(try space.readUnicodeString(at: ldr + UInt64(offsets[2])) == first["name"] as? String)

    let symbols = try #require(truth["symbols_used"] as? [String: Any])
    let head = try #require(TestData.hex(symbols["PsLoadedModuleList"]))
    let walk = space.listEntries(head: head)
    #expect(walk.stop == .returnedToHead)
    #expect(walk.entries.count == listed.count)
    let expected = listed.compactMap { TestData.hex($0["ldr_entry"]).map { $0 + UInt64(offsets[1]) } }
    #expect(walk.entries == expected)
    let backward = space.listEntries(head: head, forward: false)
    #expect(backward.entries == expected.reversed())
  }
}
