// The user32.dll of the boot guest, built here with clang and lld-link (CodeView PDB): apfnDispatch
// with __fn* routines in the order the C source lists them, exported user-mode callers whose
// addresses the guest's trap frames point into, and one caller user32 does not export (named only by
// the PDB's publics). Facts about it come from llvm-readobj (sections, exports) and llvm-pdbutil
// (publics) — never from CallScope.

import Foundation
import TestData

/// A built user32.dll with its PDB and what the LLVM tools say about it.
struct TraceUser32 {
  /// apfnDispatch, slot by slot (index = ApiNumber).
  static let slots = [
    "__fnCOPYDATA", "__fnCOPYGLOBALDATA", "__fnDWORD", "__fnNCDESTROY", "__fnDWORDOPTINLPMSG", "__fnINOUTDRAG",
    "__fnGETTEXTLENGTHS", "__fnINCNTOUTSTRING", "__ClientLoadLibrary", "__fnHkINLPKBDLLHOOKSTRUCT",
  ]
  /// Exported functions the guest's threads "called" (their trap-frame Rip lies inside them).
  static let callers = ["SendMessageW", "CreateWindowExW", "DispatchMessageW", "PeekMessageW"]
  /// An exported function with a stack frame (a .pdata entry), standing in for a syscall wrapper that
  /// is not a leaf: a trap frame inside its win32u copy needs a real unwind step to reach user32.
  static let framed = "NtUserFramed"
  /// A caller with external linkage but no export: only the PDB's publics name it.
  static let internalCaller = "UserInternalPaint"

  let directory: URL
  let dll: [UInt8]
  /// Export name → RVA (llvm-readobj --coff-exports).
  let exports: [String: UInt64]
  /// PDB public function name → RVA (llvm-pdbutil dump --publics: section:offset, section from
  /// llvm-readobj).
  let publics: [String: UInt64]
  /// Sections as mapped: (virtual address, raw bytes).
  let sections: [(rva: UInt64, bytes: [UInt8])]
  let sizeOfImage: UInt64
  /// The preferred base (the DLL is mapped there, so apfnDispatch needs no relocation).
  let imageBase: UInt64
  let headers: [UInt8]
  /// `framed`'s function-table entry per llvm-readobj --unwind: its RVA range, prolog size, and the
  /// bytes its prolog pushes and allocates (the return address lies that far above the body's RSP).
  let framedUnwind: (begin: UInt64, end: UInt64, prolog: UInt64, frameSize: UInt64)

  static var source: String {
    let routines = slots.enumerated().map { i, name in
      "__declspec(noinline) long \(name)(void *p) { sink = \(i + 1); return \(i + 1)L + (p != 0); }"
    }
    let exported = callers.enumerated().map { i, name in
      """
      __declspec(dllexport) __declspec(noinline) long \(name)(void *a, long b) {
        sink = b; sink = b + \(i); sink = b * 3; return (long)(a != 0) + b + \(i);
      }
      """
    }
    return """
      static volatile long sink;
      \(routines.joined(separator: "\n"))
      \(exported.joined(separator: "\n"))
      __declspec(noinline) long \(internalCaller)(void *a, long b) {
        sink = b; sink = b + 9; sink = b * 5; return (long)(a != 0) + b + 9;
      }
      __declspec(dllexport) __declspec(noinline) long \(framed)(void *a, long b) {
        volatile long local[12]; local[b & 7] = b; sink = local[(b + 1) & 7]; return local[3] + (a != 0);
      }
      __declspec(dllexport) void *apfnDispatch[] = { \(slots.joined(separator: ", ")) };

      """
  }

  /// Builds it for x64, or with `x86` for i686 (no function table there: `framedUnwind` is zeros).
  static func build(x86: Bool = false) throws -> TraceUser32 {
    let dir = try TestData.buildDLL(
      source: source, label: x86 ? "trace-user32-x86" : "trace-user32",
      target: x86 ? "i686-pc-windows-msvc" : "x86_64-pc-windows-msvc")
    let dllPath = dir.appendingPathComponent("user32.dll").path
    let pe = try LinkedImage(
      directory: dir, imagePath: dllPath, pdbPath: dir.appendingPathComponent("user32.pdb").path)
    let (dll, exports, sections, sizeOfImage, imageBase) = (
      pe.bytes, pe.exports, pe.sections, pe.sizeOfImage, pe.imageBase
    )
    guard !sections.isEmpty, sizeOfImage > 0, imageBase > 0, exports["apfnDispatch"] != nil else {
      throw TestDataError.tool("llvm-readobj gave no sections, SizeOfImage or apfnDispatch export")
    }
    let publics = try LinkedImage.publics(pe.pdbPath, sectionRVAs: pe.sectionRVAs, functionsOnly: true)
    guard publics[internalCaller] != nil, exports[internalCaller] == nil else {
      throw TestDataError.tool("\(internalCaller) is not a PDB public without an export: \(publics)")
    }
    return TraceUser32(
      directory: dir, dll: dll, exports: exports, publics: publics, sections: sections, sizeOfImage: sizeOfImage,
      imageBase: imageBase,
      headers: pe.headers,
      framedUnwind: x86 ? (0, 0, 0, 0) : try framedUnwind(dllPath, rva: exports[framed], imageBase: imageBase))
  }

  /// The RVA of a caller: its export, else its PDB public.
  func rva(of function: String) -> UInt64? { exports[function] ?? publics[function] }

  /// The llvm-readobj --unwind entry of the function at `rva`: `StartAddress: (0x…)`, `EndAddress`,
  /// `PrologSize: N` and codes `0x04: ALLOC_SMALL size=56`, `PUSH_NONVOL reg=RSI`, `ALLOC_LARGE size=N`.
  static func framedUnwind(
    _ dllPath: String, rva: UInt64?, imageBase: UInt64
  ) throws -> (begin: UInt64, end: UInt64, prolog: UInt64, frameSize: UInt64) {
    let dump = try TestData.run(try TestData.which("llvm-readobj"), ["--unwind", dllPath])
    guard dump.status == 0, let rva else { throw TestDataError.tool("llvm-readobj --unwind: \(dump.stderr)") }
    func address(_ line: String) -> UInt64? {
      guard let open = line.lastIndex(of: "("), let close = line.lastIndex(of: ")"), open < close else { return nil }
      let inner = line[line.index(after: open)..<close]
      return inner.hasPrefix("0x") ? UInt64(inner.dropFirst(2), radix: 16) : nil
    }
    var found: (begin: UInt64, end: UInt64, prolog: UInt64, frameSize: UInt64)?
    var inside = false
    for line in dump.stdout.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
      if line.hasPrefix("StartAddress:") {
        if found != nil { break }
        inside = address(line) == imageBase + rva
        if inside { found = (rva, 0, 0, 0) }
      } else if inside, line.hasPrefix("EndAddress:"), let end = address(line) {
        found?.end = end - imageBase
      } else if inside, line.hasPrefix("PrologSize: ") {
        found?.prolog = UInt64(line.dropFirst(12)) ?? 0
      } else if inside, let size = line.range(of: "size=") {
        found?.frameSize += UInt64(line[size.upperBound...]) ?? 0
      } else if inside, line.contains("PUSH_NONVOL") {
        found?.frameSize += 8
      } else if inside, line.contains(": ") && line.hasPrefix("0x") {
        throw TestDataError.tool("unexpected unwind code for \(framed): \(line)")
      }
    }
    guard let found, found.frameSize > 0 else {
      throw TestDataError.tool("no unwind data for \(framed):\n\(dump.stdout)")
    }
    return found
  }
}
