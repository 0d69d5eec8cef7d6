// Test inputs: Wine's real PE files (Debian libwine), PEs built here with clang + lld-link (x64 DLL
// with a forwarder and a version resource, x64 EXE, x86 DLL), and sources that hide pages.

import BinaryReading
import Foundation
import PortableExecutable
import TestData

/// Wine's x86_64 PE builds, installed by Debian's libwine.
enum Wine {
  static let directory = "/usr/lib/x86_64-linux-gnu/wine/x86_64-windows"
  static let files = ["ntoskrnl.exe", "user32.dll", "ntdll.dll"]
  static func path(_ name: String) -> String { directory + "/" + name }
}

/// PEs built once per test run from the C and .rc sources below.
struct BuiltPEs: Sendable {
  let directory: String
  var dll64: String { directory + "/x64.dll" }
  var pdb64: String { directory + "/x64.pdb" }
  var exe64: String { directory + "/m64.exe" }
  var pdbExe64: String { directory + "/m64.pdb" }
  var dll32: String { directory + "/x86.dll" }
  var pdb32: String { directory + "/x86.pdb" }

  /// The version resource compiled into the DLLs: these literals are the oracle for versionInfo().
  static let fileVersion = "10.0.19041.1415"
  static let productVersion = "10.0.19041.7"
  static let versionStrings: [String: String] = [
    "CompanyName": "CallScope Test", "FileDescription": "Test DLL \u{00E9}t\u{00E9}",
    "FileVersion": "10.0.19041.1415", "OriginalFilename": "x64.dll", "ProductName": "Odd",
  ]
  /// The forwarder each DLL declares with `/export:Fwd=other.Target`.
  static let forwarder = "other.Target"

  static let shared: Result<BuiltPEs, any Error> = Result { try build() }

  static func get() throws -> BuiltPEs { try shared.get() }

  private static let library = """
    int alpha(int a) { return a + 1; }
    int beta(int a) { return a * 2; }
    int gamma_(int a) { return alpha(a) + beta(a); }
    int data_value = 42;
    """
  private static let program = """
    int helper(int a);
    int __declspec(noinline) helper(int a) { return a * 3; }
    int __declspec(noinline) twice(int a) { return helper(a) + helper(a + 1); }
    int mainCRTStartup(void) { return twice(2); }
    """
  private static let resource = """
    1 VERSIONINFO
    FILEVERSION 10,0,19041,1415
    PRODUCTVERSION 10,0,19041,7
    FILEOS 0x40004
    FILETYPE 2
    BEGIN
      BLOCK "StringFileInfo"
      BEGIN
        BLOCK "040904B0"
        BEGIN
          VALUE "CompanyName", "CallScope Test"
          VALUE "FileDescription", L"Test DLL \\x00E9t\\x00E9"
          VALUE "FileVersion", "10.0.19041.1415"
          VALUE "OriginalFilename", "x64.dll"
          VALUE "ProductName", "Odd"
        END
      END
      BLOCK "VarFileInfo"
      BEGIN
        VALUE "Translation", 0x409, 1200
      END
    END
    """

  private static func build() throws -> BuiltPEs {
    let dir = try TestData.temporaryDirectory("pe").path
    try library.write(toFile: dir + "/x.c", atomically: true, encoding: .utf8)
    try program.write(toFile: dir + "/m.c", atomically: true, encoding: .utf8)
    try resource.write(toFile: dir + "/v.rc", atomically: true, encoding: .utf8)
    let clang = try TestData.which("clang")
    let link = try TestData.which("lld-link")
    func run(_ tool: String, _ args: [String]) throws {
      let r = try TestData.run(tool, args)
      guard r.status == 0 else { throw TestDataError.tool("\(tool) \(args) failed: \(r.stderr)") }
    }
    try run(try TestData.which("llvm-rc"), ["-fo", dir + "/v.res", dir + "/v.rc"])
    for (target, obj) in [("x86_64-pc-windows-msvc", "x64"), ("i686-pc-windows-msvc", "x86")] {
      try run(clang, ["--target=\(target)", "-gcodeview", "-O1", "-c", dir + "/x.c", "-o", dir + "/\(obj).obj"])
    }
    try run(clang, ["--target=x86_64-pc-windows-msvc", "-gcodeview", "-O0", "-c", dir + "/m.c", "-o", dir + "/m.obj"])
    let exports = [
      "/export:alpha", "/export:beta,@7", "/export:gamma_,@9,NONAME", "/export:Fwd=\(forwarder)",
      "/export:data_value,DATA",
    ]
    try run(
      link,
      [
        "/dll", "/noentry", "/debug", "/machine:x64", "/out:\(dir)/x64.dll", "/pdb:\(dir)/x64.pdb", dir + "/x64.obj",
        dir + "/v.res",
      ] + exports)
    try run(
      link,
      [
        "/dll", "/noentry", "/debug", "/machine:x86", "/out:\(dir)/x86.dll", "/pdb:\(dir)/x86.pdb", dir + "/x86.obj",
        dir + "/v.res",
      ] + exports)
    try run(
      link,
      [
        "/debug", "/entry:mainCRTStartup", "/subsystem:console", "/machine:x64", "/out:\(dir)/m64.exe",
        "/pdb:\(dir)/m64.pdb", dir + "/m.obj",
      ])
    return BuiltPEs(directory: dir)
  }
}

/// Opens `path` as a PE in the file layout.
func openPE(_ path: String) throws -> PEImage {
  try PEImage.open(path: path)
}

/// A byte source over an image's bytes in which some pages are missing, like a module in a memory
/// image whose pages were paged out: a read touching one throws `PageMissing`.
struct HolesSource: ByteSource {
  struct PageMissing: Error, CustomStringConvertible {
    let page: UInt64
    var description: String { "page \(Hex.format(page)) is not in the memory image" }
  }

  let base: any ByteSource
  let missingPages: Set<UInt64>
  var sourceName: String { "mapped " + base.sourceName }
  var size: UInt64 { base.size }

  func read(at offset: UInt64, count: Int) throws -> [UInt8] {
    if count > 0 {
      let last = offset + UInt64(count) - 1
      for page in (offset >> 12)...(last >> 12) where missingPages.contains(page) {
        throw PageMissing(page: page << 12)
      }
    }
    return try base.read(at: offset, count: count)
  }
}

/// The image mapped as the loader would (by pefile, the independent oracle), as a `.mapped` PEImage.
func mappedPE(_ path: String, missingPages: Set<UInt64> = []) throws -> PEImage {
  let out = try TestData.temporaryDirectory("pe-map").path + "/image.bin"
  try PefileReport.mappedImage(path, to: out)
  let file = try MappedFile(path: out)
  return try PEImage(source: HolesSource(base: file, missingPages: missingPages), layout: .mapped)
}
