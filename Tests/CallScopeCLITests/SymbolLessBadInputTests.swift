// Hostile export code and tables on copies of the clean reference image, read with --no-symbols: a
// jmp to itself, an export whose RVA lies outside the image, a referenced address that fails its
// shape check, two candidates that both pass. The head is then never reported: the family is
// `notLocated` with the candidates tried and why, every other family is still read, no hang.
// Patch offsets come from the truth file (kernel_phys + RVA: the image maps code with large pages).

import Foundation
import TestData
import Testing

@Suite struct SymbolLessBadInputTests {
  struct Patched {
    let path: String
    let truth: [String: Any]
    let base: UInt64
    let phys: UInt64
    let file: FileHandle

    init(_ label: String) throws {
      let source = try CLI.image("win10-19041-clean")
      truth = try CLI.truth("win10-19041-clean")
      base = try #require(CLI.number(truth["kernel_base"]))
      phys = try #require(CLI.number(truth["kernel_phys"]))
      let dir = try TestData.temporaryDirectory("symless-\(label)")
      path = dir.appendingPathComponent("patched.raw").path
      let copy = try TestData.run("/bin/cp", ["--sparse=always", source, path])
      #expect(copy.status == 0)
      file = try #require(FileHandle(forUpdatingAtPath: path))
    }

    func va(_ export: String) throws -> UInt64 {
      let code = try #require(truth["nt_code"] as? [String: [String: Any]])
      return try #require(CLI.number(code[export]?["va"]))
    }

    func write(_ bytes: [UInt8], atVA va: UInt64) throws {
      try file.seek(toOffset: phys + (va - base))
      file.write(Data(bytes))
    }

    func read(_ count: Int, atRVA rva: UInt64) throws -> [UInt8] {
      try file.seek(toOffset: phys + rva)
      return [UInt8](file.readData(ofLength: count))
    }

    /// `lea rcx, [rip + disp]` at `va` pointing to `target`, then `ret`.
    func leaReturning(_ target: UInt64, at va: UInt64) throws {
      let disp = Int32(truncatingIfNeeded: Int64(bitPattern: target &- (va &+ 7)))
      let d = withUnsafeBytes(of: disp.littleEndian, Array.init)
      try write([0x48, 0x8d, 0x0d] + d + [0xc3], atVA: va)
    }

    /// Sets the export address table entry of `name` to `rva`.
    func setExportRVA(_ name: String, _ rva: UInt32) throws {
      let pe = try #require(truth["nt_pe"] as? [String: Any])
      let dir = try #require(CLI.number(pe["export_dir_rva"]))
      func u32(_ b: [UInt8], _ o: Int) -> UInt32 { b[o..<o + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
      let header = try read(40, atRVA: dir)
      let count = Int(u32(header, 0x18))
      let functions = UInt64(u32(header, 0x1c)), names = UInt64(u32(header, 0x20)), ordinals = UInt64(u32(header, 0x24))
      let nameTable = try read(count * 4, atRVA: names)
      let ordinalTable = try read(count * 2, atRVA: ordinals)
      for i in 0..<count {
        let nameBytes = try read(64, atRVA: UInt64(u32(nameTable, i * 4)))
        guard String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self) == name else { continue }
        let ordinal = UInt64(ordinalTable[i * 2]) | UInt64(ordinalTable[i * 2 + 1]) << 8
        try file.seek(toOffset: phys + functions + ordinal * 4)
        file.write(Data(withUnsafeBytes(of: rva.littleEndian, Array.init)))
        return
      }
      Issue.record("export \(name) not found")
    }

    func callbacks() throws -> (status: Int32, json: [String: Any]) {
      try file.synchronize()
      let result = try CLI.run(["callbacks", "--offline", "--no-symbols", "--format", "json", path])
      return (result.status, try #require(try CLI.json(result.stdout) as? [String: Any]))
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
  }

  static let threadExports = ["PsSetCreateThreadNotifyRoutine", "PsRemoveCreateThreadNotifyRoutine"]

  /// The thread-notify entry of notLocated and the locator's record of PspCreateThreadNotifyRoutine.
  static func threadFailure(_ json: [String: Any]) throws -> (reason: String, candidates: [String]) {
    let families = json["notLocated"] as? [[String: Any]] ?? []
    let entry = try #require(families.first { $0["family"] as? String == "thread-notify" }, "thread-notify located")
    let symbols = (json["locatedSymbols"] as? [String: Any])?["notLocated"] as? [[String: Any]] ?? []
    let record = try #require(symbols.first { $0["symbol"] as? String == "PspCreateThreadNotifyRoutine" })
    #expect((entry["reason"] as? String)?.contains("PspCreateThreadNotifyRoutine") == true)
    return (record["reason"] as? String ?? "", record["candidates"] as? [String] ?? [])
  }

  /// Every family but thread-notify is still read (the clean image's other 105 routines).
  static func othersIntact(_ json: [String: Any]) throws {
    let rows = json["callbacks"] as? [[String: Any]] ?? []
    let truth = try #require(try CLI.truth("win10-19041-clean")["callbacks"] as? [[String: Any]])
    #expect(rows.count == truth.filter { $0["callscope_family"] as? String != "thread-notify" }.count)
    #expect(!rows.contains { $0["family"] as? String == "thread-notify" })
  }

  @Test func jumpToItselfEndsTheWalk() throws {
    let image = try Patched("jmp")
    defer { image.remove() }
    for export in Self.threadExports { try image.write([0xeb, 0xfe], atVA: try image.va(export)) }  // jmp .
    let (status, json) = try image.callbacks()
    #expect(status == 0)
    let failure = try Self.threadFailure(json)
    #expect(failure.reason.contains("references no kernel data"), "\(failure.reason)")
    try Self.othersIntact(json)
  }

  @Test func exportOutsideTheImage() throws {
    let image = try Patched("rva")
    defer { image.remove() }
    for export in Self.threadExports { try image.setExportRVA(export, 0x7fff_0000) }
    let (status, json) = try image.callbacks()
    #expect(status == 0)
    let failure = try Self.threadFailure(json)
    #expect(failure.reason.contains("outside the image"), "\(failure.reason)")
    try Self.othersIntact(json)
  }

  @Test func candidateFailingItsShapeIsNeverReported() throws {
    let image = try Patched("shape")
    defer { image.remove() }
    let pe = try #require(image.truth["nt_pe"] as? [String: Any])
    let exportDirectory = image.base + (try #require(CLI.number(pe["export_dir_rva"])))
    try image.leaReturning(exportDirectory, at: try image.va("PsSetCreateThreadNotifyRoutine"))
    try image.write([0xeb, 0xfe], atVA: try image.va("PsRemoveCreateThreadNotifyRoutine"))
    let (status, json) = try image.callbacks()
    #expect(status == 0)
    let failure = try Self.threadFailure(json)
    #expect(failure.reason.contains("failed its shape check"), "\(failure.reason)")
    let hex = "0x" + String(exportDirectory, radix: 16)
    #expect(failure.candidates.contains { $0.hasPrefix(hex) && !$0.contains("passes") }, "\(failure.candidates)")
    try Self.othersIntact(json)
  }

  @Test func twoPassingCandidatesAreNotTrusted() throws {
    let image = try Patched("two")
    defer { image.remove() }
    // Set… now names the image-notify array (a valid EX_FAST_REF array); Remove… still the real one.
    let imageArray = try #require(
      (image.truth["callbacks"] as? [[String: Any]])?.first { $0["callscope_family"] as? String == "image-notify" }
        .flatMap { CLI.number($0["head_va"]) })
    try image.leaReturning(imageArray, at: try image.va("PsSetCreateThreadNotifyRoutine"))
    let (status, json) = try image.callbacks()
    #expect(status == 0)
    let failure = try Self.threadFailure(json)
    #expect(failure.reason.contains("2 candidates pass"), "\(failure.reason)")
    #expect(failure.candidates.filter { $0.contains("passes") }.count == 2)
    try Self.othersIntact(json)
  }
}
