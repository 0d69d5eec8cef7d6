// WindowsImageBuilder: the raw image is read by an independent python script that walks the x64
// page tables from the planted DTB (SDM vol. 3A 4.5) and parses the PE, KUSER_SHARED_DATA and low
// stub found there; its answers must equal the truth the builder reports.

import Foundation
import ImageBuilder
import Testing

struct WindowsImageBuilderTests {
  /// The python side: walks the tables and reads the planted structures at the addresses the truth names.
  static let inspector =
    Oracles.pythonWalker + """

      f = open(sys.argv[1], 'rb'); t = json.loads(sys.argv[2]); cr3 = t['dtb']
      def vread(va, n, dtb=cr3):
          out = b''
          while len(out) < n:
              pa = translate(f, 'x64-4level', dtb, va + len(out))
              if pa is None: raise Exception('unmapped %x' % (va + len(out)))
              k = min(n - len(out), 0x1000 - ((va + len(out)) & 0xfff)); out += rd(f, pa, k)
          return out
      def u32(b, o): return struct.unpack_from('<I', b, o)[0]
      def leaf_shift(va):
          table = cr3 & 0x000ffffffffff000
          for shift in (39, 30, 21, 12):
              e = q(f, table + ((va >> shift) & 0x1ff) * 8)
              if shift == 12 or e & 0x80: return shift
              table = e & 0x000ffffffffff000
      base = t['kernelBase']
      hdr = vread(base, 0x1000)
      pe = u32(hdr, 0x3c); opt = pe + 24; nsec = struct.unpack_from('<H', hdr, pe + 6)[0]
      size_of_image = u32(hdr, opt + 56)
      sections = []
      for i in range(nsec):
          s = opt + 240 + 40 * i
          sections.append({'name': hdr[s:s+8].rstrip(b'\\0').decode(), 'address': base + u32(hdr, s + 12), 'size': u32(hdr, s + 8)})
      dbg_rva = u32(hdr, opt + 112 + 6 * 8); dbg = vread(base + dbg_rva, 28)
      cv = vread(base + u32(dbg, 20), u32(dbg, 16))
      g = cv[4:20]
      guid = ('%08X%04X%04X' % struct.unpack_from('<IHH', g, 0)) + g[8:].hex().upper()
      exp_rva = u32(hdr, opt + 112); ed = vread(base + exp_rva, 40)
      nnames = u32(ed, 24); funcs = vread(base + u32(ed, 28), 4 * u32(ed, 20))
      names = vread(base + u32(ed, 32), 4 * nnames); ords = vread(base + u32(ed, 36), 2 * nnames)
      exports = {}
      for i in range(nnames):
          nb = vread(base + u32(names, 4 * i), 64); name = nb[:nb.index(0)].decode()
          exports[name] = base + u32(funcs, 4 * struct.unpack_from('<H', ords, 2 * i)[0])
      ku = vread(0xfffff78000000000, 0x300)
      stub = rd(f, t['lowStub'], 0xa8)
      self_entry = q(f, cr3 + 8 * t['selfReferenceIndex'])
      print(json.dumps({'mz': hdr[:2].decode(), 'pe': hdr[pe:pe+4].hex(), 'sizeOfImage': size_of_image,
        'sections': sections, 'rsds': cv[:4].decode(), 'guid': guid, 'age': u32(cv, 20), 'pdb': cv[24:cv.index(0, 24)].decode(),
        'exports': exports, 'major': u32(ku, 0x26c), 'minor': u32(ku, 0x270), 'build': u32(ku, 0x260),
        'stubSignature': struct.unpack_from('<Q', stub, 0)[0] & 0xFFFFFFFFFFFF00FF, 'lmTarget': struct.unpack_from('<Q', stub, 0x70)[0],
        'stubCr3': struct.unpack_from('<Q', stub, 0xa0)[0], 'selfEntryFrame': self_entry & 0x000ffffffffff000,
        'firstPageShift': leaf_shift(base), 'tailPageShift': leaf_shift(base + t['largePageBytes']),
        'kernelPhysical': translate(f, 'x64-4level', cr3, base)}))
      """

  static func truthJSON(_ truth: WindowsImageTruth) throws -> String {
    String(decoding: try JSONEncoder().encode(truth), as: UTF8.self)
  }

  @Test func pythonWalkerFindsThePlantedKernel() throws {
    var configuration = WindowsImageConfiguration(seed: 7)
    configuration.pdbGUID = "0A1B2C3D4E5F60718293A4B5C6D7E8F9"
    configuration.pdbAge = 2
    let start = Date()
    let builder = try WindowsImageBuilder(configuration)
    let path = try Oracles.temporaryPath("win.raw")
    try builder.writeRaw(to: path)
    print("WindowsImageBuilder: built and wrote 64 MiB in \(Date().timeIntervalSince(start)) s")
    let truth = builder.truth
    let json = try #require(try Oracles.python(Self.inspector, [path, try Self.truthJSON(truth)]) as? [String: Any])
    #expect(json["mz"] as? String == "MZ")
    #expect(json["pe"] as? String == "50450000")
    #expect(json["rsds"] as? String == "RSDS")
    #expect(json["guid"] as? String == "0A1B2C3D4E5F60718293A4B5C6D7E8F9")
    #expect(truth.pdb.guid == "0A1B2C3D4E5F60718293A4B5C6D7E8F9")
    #expect(json["age"] as? Int == 2)
    #expect(json["pdb"] as? String == "ntkrnlmp.pdb")
    #expect((json["sizeOfImage"] as? NSNumber)?.uint64Value == truth.kernelSize)
    // Windows 10 19041: KUSER_SHARED_DATA NtMajorVersion 10, NtMinorVersion 0, NtBuildNumber 19041.
    #expect(json["major"] as? Int == 10)
    #expect(json["minor"] as? Int == 0)
    #expect(json["build"] as? Int == 19041)
    // Low stub: documented signature, CR3 = the DTB, LmTarget inside the kernel.
    #expect((json["stubSignature"] as? NSNumber)?.uint64Value == 0x0000_0001_0006_00E9)
    #expect((json["stubCr3"] as? NSNumber)?.uint64Value == truth.dtb)
    let lmTarget = try #require((json["lmTarget"] as? NSNumber)?.uint64Value)
    #expect(lmTarget == truth.lowStubLmTarget)
    #expect(lmTarget >= truth.kernelBase && lmTarget < truth.kernelBase + truth.kernelSize)
    #expect((json["selfEntryFrame"] as? NSNumber)?.uint64Value == truth.dtb)
    #expect(json["firstPageShift"] as? Int == 21)
    #expect(json["tailPageShift"] as? Int == 12)
    #expect((json["kernelPhysical"] as? NSNumber)?.uint64Value == truth.kernelPhysicalBase)
    let sections = try #require(json["sections"] as? [[String: Any]])
    #expect(sections.map { $0["name"] as? String } == truth.sections.map(\.name))
    #expect(sections.map { ($0["address"] as? NSNumber)?.uint64Value } == truth.sections.map(\.address))
    #expect(sections.map { ($0["size"] as? NSNumber)?.uint64Value } == truth.sections.map(\.size))
    let exports = try #require(json["exports"] as? [String: NSNumber])
    #expect(exports.mapValues(\.uint64Value) == truth.exports)
    #expect(truth.exports.keys.contains("PsSetCreateProcessNotifyRoutine"))
  }

  @Test func truthHasTheShapeAWindows10KernelHas() throws {
    let truth = try WindowsImageBuilder().truth
    #expect(truth.synthetic)
    #expect(truth.kernelBase & 0xFFFF_FF00_0000_0000 == 0xFFFF_F800_0000_0000)
    #expect(truth.kernelBase % 0x20_0000 == 0)
    #expect(truth.selfReferenceIndex != 0x1ED && (0x100..<0x200).contains(truth.selfReferenceIndex))
    #expect(truth.pageTableBase == 0xFFFF_0000_0000_0000 | UInt64(truth.selfReferenceIndex) << 39)
    #expect(truth.kernelSize > truth.largePageBytes)
    #expect(truth.version == "10.0.19041.1415")
    #expect(Set(truth.decoys.map(\.kind)) == ["driver-pe", "unmapped-pe", "random-page"])
    #expect(truth.memorySize == 0x400_0000)
  }

  @Test func sameSeedSameBytesOtherSeedOtherLayout() throws {
    let a = try Oracles.temporaryPath("a.raw")
    let b = try Oracles.temporaryPath("b.raw")
    let first = try WindowsImageBuilder(.init(seed: 42))
    try first.writeRaw(to: a)
    try WindowsImageBuilder(.init(seed: 42)).writeRaw(to: b)
    #expect(FileManager.default.contentsEqual(atPath: a, andPath: b))
    let other = try WindowsImageBuilder(.init(seed: 43)).truth
    #expect(other.kernelBase != first.truth.kernelBase)
    #expect(other.selfReferenceIndex != first.truth.selfReferenceIndex || other.dtb != first.truth.dtb)
  }

  @Test func hooksAddPoolStructsModulesAndProcesses() throws {
    var configuration = WindowsImageConfiguration(seed: 3)
    configuration.layouts.structs["_TEST_ENTRY"] = StructLayout(
      name: "_TEST_ENTRY", size: 0x20,
      fields: [
        "Flink": .init(offset: 0, size: 8), "Blink": .init(offset: 8, size: 8), "Tag": .init(offset: 0x18, size: 4),
      ])
    let builder = try WindowsImageBuilder(configuration)
    var entry = try builder.instance("_TEST_ENTRY")
    let head = try builder.allocateKernelMemory(0x10)
    try entry.set("Flink", head)
    try entry.set("Blink", head)
    try entry.set("Tag", 0x6C6F_6F50)  // 'Pool'
    let entryVA = try builder.allocate(entry)
    try builder.writeLE(entryVA, at: head)
    try builder.writeLE(entryVA, at: head + 8)
    let module = try builder.addModule(
      name: "extra.sys",
      pe: try PEBuilder(
        machine: .amd64, imageBase: 0,
        sections: [.init(name: ".text", characteristics: PEBuilder.Section.code, contents: [0xC3])]))
    let process = try builder.addProcess(name: "demo.exe")
    try builder.mapFreshPages(in: process, va: 0x7FF6_1000_0000, length: 0x2000, flags: [.writable, .user])
    try process.write(Array("user data".utf8), at: 0x7FF6_1000_1000)
    #expect(throws: ImageBuilderError.self) { try entry.set("Missing", 1) }
    #expect(throws: ImageBuilderError.self) { try entry.set("Tag", 0x1_0000_0000) }

    let path = try Oracles.temporaryPath("hooks.raw")
    try builder.writeRaw(to: path)
    let script =
      Oracles.pythonWalker + """

        f = open(sys.argv[1], 'rb'); kdtb, udtb = int(sys.argv[2], 16), int(sys.argv[3], 16)
        head, mod, kbase = int(sys.argv[4], 16), int(sys.argv[5], 16), int(sys.argv[6], 16)
        def vr(dtb, va, n): return rd(f, translate(f, 'x64-4level', dtb, va), n)
        flink = struct.unpack('<Q', vr(kdtb, head, 8))[0]
        print(json.dumps({'flinkBack': struct.unpack('<Q', vr(kdtb, flink, 8))[0], 'tag': vr(kdtb, flink + 0x18, 4).decode('latin1'),
          'modMZ': vr(kdtb, mod, 2).decode(), 'user': vr(udtb, 0x7FF610001000, 9).decode(),
          'userInKernel': translate(f, 'x64-4level', kdtb, 0x7FF610001000),
          'sharedKernel': translate(f, 'x64-4level', udtb, kbase) == translate(f, 'x64-4level', kdtb, kbase),
          'sharedPool': translate(f, 'x64-4level', udtb, head) == translate(f, 'x64-4level', kdtb, head)}))
        """
    let hex = { (v: UInt64) in String(v, radix: 16) }
    let json = try #require(
      try Oracles.python(
        script,
        [path, hex(builder.truth.dtb), hex(process.root), hex(head), hex(module.base), hex(builder.truth.kernelBase)])
        as? [String: Any])
    #expect((json["flinkBack"] as? NSNumber)?.uint64Value == head)
    #expect(json["tag"] as? String == "Pool")
    #expect(json["modMZ"] as? String == "MZ")
    #expect(json["user"] as? String == "user data")
    #expect(json["userInKernel"] is NSNull)
    #expect(json["sharedKernel"] as? Bool == true)
    #expect(json["sharedPool"] as? Bool == true)
    #expect(builder.truth.modules.map(\.name).contains("extra.sys"))
    #expect(builder.truth.processes == [.init(name: "demo.exe", dtb: process.root)])
  }

  @Test func limeAndELFOutputsOfTheScenarioKeepTheHole() throws {
    let builder = try WindowsImageBuilder()
    let path = try Oracles.temporaryPath("win.elf")
    try builder.memory.writeELFCore(to: path)
    let out = try Oracles.readobj(["--program-headers"], path)
    #expect(out.components(separatedBy: "Type: PT_LOAD").count == 3)  // [0, 0xA0000) and [0x100000, 64 MiB)
    #expect(out.contains("PhysicalAddress: 0x100000"))
  }

  @Test func badConfigurationThrows() throws {
    var configuration = WindowsImageConfiguration()
    configuration.kernelBase = 0xFFFF_F800_0010_0000
    #expect(throws: ImageBuilderError.self) { try WindowsImageBuilder(configuration) }
    var tooSmall = WindowsImageConfiguration()
    tooSmall.memorySize = 0x30_0000  // no 2 MiB-aligned 2 MiB block above 1 MiB
    #expect(throws: ImageBuilderError.self) { try WindowsImageBuilder(tooSmall) }
  }
}
