// The instrumentation-callback family on a patched copy of the clean image: csrss.exe gets a callback
// in its own ntdll (the module base from the truth's loader list), explorer-like process number two a
// callback in private memory (flagged); every other family is as on the clean image. The KPROCESS
// member's offset is python's, from the 19041 ISF.

import Analysis
import Callbacks
import Foundation
import TestData
import Testing
import WindowsKernel

@Suite struct InstrumentationCallbackTests {
  @Test func callbacksInAModuleAndInPrivateMemory() throws {
    let clean = try CleanImage.get()
    let truth = try #require(
      try TestData.json(TestData.shared("images/win10-19041-clean.truth.json").path) as? [String: Any])
    let processes = try #require(truth["processes"] as? [[String: Any]])
    func hex(_ value: Any?) -> UInt64? { (value as? String).flatMap { UInt64($0.dropFirst(2), radix: 16) } }
    let withLoader = processes.filter { ($0["ldr"] as? [String: Any])?["load_order"] != nil }
    try #require(withLoader.count >= 2)
    let first = withLoader[0]
    let second = withLoader[1]
    let modules = try #require((first["ldr"] as? [String: Any])?["load_order"] as? [[String: Any]])
    let ntdll = try #require(hex(modules.first { $0["name"] as? String == "ntdll.dll" }?["base"]))
    let r = try TestData.run(
      "/bin/sh",
      [
        "-c",
        "xz -dc '\(TestData.shared("data/isf/ntkrnlmp.pdb/3177D31000BA7590DED335936C93E374-1.json.xz").path)' "
          + "| python3 -c \"import json,sys; print(json.load(sys.stdin)['user_types']['_KPROCESS']['fields']"
          + "['InstrumentationCallback']['offset'])\"",
      ])
    let offset = try #require(UInt64(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
    let inModule = ntdll + 0x1230
    let privateMemory: UInt64 = 0x0000_01F0_DEAD_0000
    let a = try #require(hex(first["eprocess"]))
    let b = try #require(hex(second["eprocess"]))
    let path = try clean.patchedCopy(
      "instrumentation", [(a + offset, CleanImage.le64(inModule)), (b + offset, CleanImage.le64(privateMemory))])
    defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
    let scan = try CallbackScan(path: path, build: clean.build)
    let result = try #require(scan.family("instrumentation-callback"))
    #expect(result.notLocated == nil, "\(result.notLocated ?? "")")
    #expect(result.warnings.isEmpty, "\(result.warnings)")
    #expect(Set(result.entries.map(\.routine)) == [inModule, privateMemory])
    let module = try #require(result.entries.first { $0.routine == inModule })
    #expect(module.detail("userModule") == .string("ntdll.dll+0x1230"))
    #expect(module.detail("process") == .string(first["name"] as? String ?? "?"))
    #expect(module.object == a)
    let verdicts = CallbackVerdicts(results: scan.results, kernel: scan.kernel, modules: [], hidden: [])
    let rows = verdicts.rows.filter { $0.entry.family == "instrumentation-callback" }
    #expect(rows.first { $0.entry.routine == inModule }?.flags == [])
    #expect(rows.first { $0.entry.routine == privateMemory }?.flags == ["instrumentation-outside-images"])
    // Every other family is read as on the clean image.
    for (family, routines) in scan.routines where family != "instrumentation-callback" {
      #expect(routines == clean.scan.routines[family], "\(family)")
    }
  }
}
