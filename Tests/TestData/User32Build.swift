// A user32.dll + user32.pdb built by clang (CodeView) and lld-link from C source, for the tests that
// need a real PDB of user32's shape (the KernelCallbackTable names, the trace command's guest).

import Foundation

extension TestData {
  /// Compiles `source` for x64 Windows and links it as a DLL with its PDB, unreferenced and identical
  /// functions kept (each routine its own address); returns the folder holding user32.dll and user32.pdb.
  public static func buildUser32(source: String, label: String) throws -> URL {
    let dir = try temporaryDirectory(label)
    let c = dir.appendingPathComponent("user32.c")
    try source.write(to: c, atomically: true, encoding: .utf8)
    let obj = dir.appendingPathComponent("user32.obj").path
    let compile = try run(
      try which("clang"), ["--target=x86_64-pc-windows-msvc", "-g", "-gcodeview", "-O1", "-c", c.path, "-o", obj])
    guard compile.status == 0 else { throw TestDataError.tool("clang: \(compile.stderr)") }
    let link = try run(
      try which("lld-link"),
      [
        "/dll", "/noentry", "/nodefaultlib", "/debug", "/opt:noref", "/opt:noicf",
        "/pdb:" + dir.appendingPathComponent("user32.pdb").path,
        "/out:" + dir.appendingPathComponent("user32.dll").path, obj,
      ])
    guard link.status == 0 else { throw TestDataError.tool("lld-link: \(link.stderr)") }
    return dir
  }
}
