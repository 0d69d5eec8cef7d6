// Helpers that hand builder output to independent readers (llvm-readobj, python3 scripts) and
// bring back their answers; the assertions compare those answers with what the tests planted.

import Foundation
import ImageBuilder
import TestData

enum Oracles {
  /// Writes `bytes` to a fresh temporary file and returns its path.
  static func temporaryFile(_ bytes: [UInt8], name: String) throws -> String {
    let url = try TestData.temporaryDirectory("builder").appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url.path
  }

  /// A fresh temporary path (no file yet).
  static func temporaryPath(_ name: String) throws -> String {
    try TestData.temporaryDirectory("builder").appendingPathComponent(name).path
  }

  /// Runs `llvm-readobj` with `arguments` on `path`; fails on a non-zero exit.
  static func readobj(_ arguments: [String], _ path: String) throws -> String {
    let result = try TestData.run(try TestData.which("llvm-readobj"), arguments + [path])
    guard result.status == 0 else { throw TestDataError.tool("llvm-readobj failed: \(result.stderr)") }
    return result.stdout
  }

  /// Runs a python3 script with `arguments`; its stdout is parsed as JSON. python3 is looked up on
  /// PATH by `env` (the interpreter that has pefile and volatility3 installed).
  static func python(_ script: String, _ arguments: [String] = []) throws -> Any {
    let result = try TestData.run("/usr/bin/env", ["python3", "-c", script] + arguments)
    guard result.status == 0 else { throw TestDataError.tool("python3 failed: \(result.stderr)") }
    return try JSONSerialization.jsonObject(with: result.stdoutData)
  }

  /// The GUID in symbol-store order from llvm-readobj's `PDBGUID: (b0 b1 … b15)` line (the bytes as
  /// stored): Data1 (4 bytes), Data2, Data3 (2 bytes each) are little-endian numbers, Data4 bytes as is.
  static func storeGUID(fromReadobj text: String) -> String? {
    guard let line = text.split(separator: "\n").first(where: { $0.contains("PDBGUID: (") }),
      let open = line.firstIndex(of: "("), let close = line.firstIndex(of: ")")
    else { return nil }
    let bytes = line[line.index(after: open)..<close].split(separator: " ").map(String.init)
    guard bytes.count == 16 else { return nil }
    let order = [3, 2, 1, 0, 5, 4, 7, 6] + Array(8..<16)
    return order.map { bytes[$0] }.joined()
  }

  /// A python page walker (Intel SDM vol. 3A ch. 4) over a raw file: translate(mode, cr3, va) → pa or None.
  /// Written independently of the builder; used by several tests.
  static let pythonWalker = """
    import struct, sys, json
    def rd(f, pa, n):
        f.seek(pa); b = f.read(n)
        if len(b) != n: raise Exception('short read at %x' % pa)
        return b
    def q(f, pa): return struct.unpack('<Q', rd(f, pa, 8))[0]
    def d(f, pa): return struct.unpack('<I', rd(f, pa, 4))[0]
    def translate(f, mode, cr3, va):
        if mode == 'x86':
            pde = d(f, (cr3 & 0xfffff000) + ((va >> 22) & 0x3ff) * 4)
            if not pde & 1: return None
            if pde & 0x80: return (pde & 0xffc00000) | (va & 0x3fffff)
            pte = d(f, (pde & 0xfffff000) + ((va >> 12) & 0x3ff) * 4)
            return (pte & 0xfffff000) | (va & 0xfff) if pte & 1 else None
        M = 0x000ffffffffff000
        if mode == 'x86-pae':
            pdpte = q(f, (cr3 & 0xffffffe0) + ((va >> 30) & 3) * 8)
            if not pdpte & 1: return None
            levels = [(21, True), (12, False)]; table = pdpte & M
        else:
            shifts = [48, 39, 30, 21, 12] if mode == 'x64-5level' else [39, 30, 21, 12]
            levels = [(s, s in (30, 21)) for s in shifts]; table = cr3 & M
        for shift, large in levels:
            e = q(f, table + ((va >> shift) & 0x1ff) * 8)
            if not e & 1: return None
            if shift == 12 or (large and e & 0x80):
                mask = (1 << shift) - 1
                return (e & M & ~mask) | (va & mask)
            table = e & M
    """

  /// Reads a kernel image by ISF offsets, after `pythonWalker`: argv[1] the raw image, argv[2] the
  /// DTB, argv[3] the kernel base, argv[4] the ISF file; defines sym, off, vread, ptr, u32, ustr, walk.
  static let pythonISFKernelReader =
    pythonWalker + """

      import lzma
      f = open(sys.argv[1], 'rb'); cr3 = int(sys.argv[2]); base = int(sys.argv[3])
      d = json.load(lzma.open(sys.argv[4])); U = d['user_types']
      def sym(n): return base + d['symbols'][n]['address']
      def off(s, m): return U[s]['fields'][m]['offset']
      def vread(va, n):
          out = b''
          while len(out) < n:
              pa = translate(f, 'x64-4level', cr3, va + len(out))
              if pa is None: raise Exception('unmapped %x' % (va + len(out)))
              k = min(n - len(out), 0x1000 - ((va + len(out)) & 0xfff)); out += rd(f, pa, k)
          return out
      def ptr(va): return struct.unpack('<Q', vread(va, 8))[0]
      def u32(va): return struct.unpack('<I', vread(va, 4))[0]
      def ustr(va):
          n = struct.unpack('<H', vread(va + off('_UNICODE_STRING', 'Length'), 2))[0]
          return vread(ptr(va + off('_UNICODE_STRING', 'Buffer')), n).decode('utf-16-le')
      def walk(head):
          out, e = [], ptr(head)
          while e != head and len(out) < 64: out.append(e); e = ptr(e)
          return out
      """

  /// `vol -r json <plugin>` of `image` with the ISF `isf` (a ../shared path) in a symbols folder of
  /// its own, kept with Volatility's cache beside the decompressed test images (Volatility builds
  /// that cache on first use, tens of seconds; it may delete files in the folder it is given, so it
  /// never sees ../shared).
  static func volatility(isf: String, image: String, plugin: String) throws -> [[String: Any]] {
    let source = TestData.shared(isf)
    let stem = source.deletingPathExtension().deletingPathExtension().lastPathComponent  // GUID-age
    let scratch = TestData.cacheDir.appendingPathComponent("vol-ntkrnlmp-\(stem)")
    let folder = scratch.appendingPathComponent("symbols/windows/ntkrnlmp.pdb")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(
      at: scratch.appendingPathComponent("cache"), withIntermediateDirectories: true)
    let copy = folder.appendingPathComponent(source.lastPathComponent)
    if !FileManager.default.fileExists(atPath: copy.path) {
      let part = folder.appendingPathComponent(UUID().uuidString + ".part")
      try FileManager.default.copyItem(at: source, to: part)
      if (try? FileManager.default.moveItem(at: part, to: copy)) == nil {
        try? FileManager.default.removeItem(at: part)  // another run copied it first
      }
    }
    let result = try TestData.run(
      "/usr/bin/env",
      [
        "vol", "-q", "--offline", "-s", scratch.appendingPathComponent("symbols").path, "--cache-path",
        scratch.appendingPathComponent("cache").path, "-r", "json", "-f", image, plugin,
      ])
    // Volatility prints a banner line before the JSON.
    guard result.status == 0, let start = result.stdout.firstIndex(of: "["),
      let rows = try JSONSerialization.jsonObject(with: Data(result.stdout[start...].utf8)) as? [[String: Any]]
    else { throw TestDataError.tool("vol \(plugin) failed: \(result.stderr.suffix(800))") }
    return rows
  }
}
