// `module!symbol+0xoff` owners: with the kernel's full symbol table on the symbol path (the ISF file,
// a private copy), every routine inside ntoskrnl is named after the symbol the truth file names
// (`fn_symbols`, written from the real symbol table of the build); without it (bundled subset only)
// the JSON `symbol` is null (DESIGN's schema: `module!symbol+offset` or null), never a nearest name.

import Foundation
import TestData
import Testing

@Suite struct OwnerSymbolTests {
  static let isf = "3177D31000BA7590DED335936C93E374-1.json.xz"

  @Test func kernelRoutinesAreNamedFromTheSymbolTable() throws {
    let image = try CLI.image("win10-19041-clean")
    let truth = try CLI.truth("win10-19041-clean")
    let fnSymbols = try #require(truth["fn_symbols"] as? [String: String])
    let dir = try TestData.temporaryDirectory("owner-symbols")
    defer { try? FileManager.default.removeItem(at: dir) }
    let copy = dir.appendingPathComponent(Self.isf).path
    try FileManager.default.copyItem(atPath: TestData.shared("data/isf/ntkrnlmp.pdb/\(Self.isf)").path, toPath: copy)

    let named = try CLI.run(["callbacks", "--offline", "--format", "json", "--symbols", copy, image])
    #expect(named.status == 0, "\(named.stderr)")
    let rows = try #require((try CLI.json(named.stdout) as? [String: Any])?["callbacks"] as? [[String: Any]])
    var checked = 0
    for row in rows {
      guard let routine = row["routine"] as? String, let expected = fnSymbols[routine],
        expected.hasPrefix("ntoskrnl.exe!")
      else { continue }
      let name = expected.dropFirst("ntoskrnl.exe!".count)
      #expect(row["symbol"] as? String == "ntoskrnl!\(name)+0x0", "\(routine)")
      checked += 1
    }
    #expect(checked >= 3)  // RawInitialize (three file-system queues) and PsPicoAltSystemCallDispatch

    let plain = try CLI.run(["callbacks", "--offline", "--format", "json", image])
    let plainRows = try #require((try CLI.json(plain.stdout) as? [String: Any])?["callbacks"] as? [[String: Any]])
    #expect(plainRows.count == (truth["callbacks"] as? [Any])?.count)
    for row in plainRows {
      #expect(row["symbol"] is NSNull, "\(row["routine"] ?? "?"): \(row["symbol"] ?? "?")")
      #expect(row["offset"] is String || row["module"] is NSNull)
    }
  }
}
