// A user32.dll + user32.pdb built by clang (CodeView) and lld-link from C source, for the tests that
// need a real PDB of user32's shape (the KernelCallbackTable names, the trace command's guest).

import Foundation

extension TestData {
  /// Compiles `source` for x64 Windows and links it as a DLL with its PDB, unreferenced and identical
  /// functions kept (each routine its own address); returns the folder holding user32.dll and user32.pdb.
  public static func buildUser32(source: String, label: String) throws -> URL {
    try buildDLL(source: source, label: label)
  }

  /// The same for any DLL: `name`.dll (or `fileName`, e.g. `fltmgr.sys`) and `pdbName` in a new
  /// folder, compiled for `target` (`x86_64-pc-windows-msvc`, `i686-pc-windows-msvc`), linked at
  /// `base` when given.
  public static func buildDLL(
    source: String, label: String, target: String = "x86_64-pc-windows-msvc", name: String = "user32",
    pdbName: String = "user32.pdb", base: UInt64? = nil, fileName: String? = nil
  ) throws -> URL {
    let dir = try temporaryDirectory(label)
    let c = dir.appendingPathComponent("\(name).c")
    try source.write(to: c, atomically: true, encoding: .utf8)
    let obj = dir.appendingPathComponent("\(name).obj").path
    let compile = try run(
      try which("clang"), ["--target=\(target)", "-g", "-gcodeview", "-O1", "-c", c.path, "-o", obj])
    guard compile.status == 0 else { throw TestDataError.tool("clang: \(compile.stderr)") }
    let link = try run(
      try which("lld-link"),
      [
        "/dll", "/noentry", "/nodefaultlib", "/debug", "/opt:noref", "/opt:noicf",
        "/pdb:" + dir.appendingPathComponent(pdbName).path,
        "/out:" + dir.appendingPathComponent(fileName ?? "\(name).dll").path, obj,
      ] + (base.map { ["/base:0x" + String($0, radix: 16)] } ?? []))
    guard link.status == 0 else { throw TestDataError.tool("lld-link: \(link.stderr)") }
    return dir
  }
}
