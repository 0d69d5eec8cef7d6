// A DLL built with clang + lld-link whose functions exercise the x64 unwind codes: C functions
// (a 0x2000-byte local array: ALLOC_LARGE; callee-saved clobbers: PUSH_NONVOL, SAVE_XMM128; a frame
// pointer for alloca: SET_FPREG) and assembly with explicit .seh directives for the rest (a 0x90000
// allocation, SAVE_NONVOL(_FAR), SAVE_XMM128_FAR, PUSH_MACHFRAME).

import Foundation
import TestData

/// The unwind test DLL, built once per run.
enum UnwindDLL {
  static let shared: Result<String, any Error> = Result { try build() }

  static func get() throws -> String { try shared.get() }

  private static let c = """
    void sink(volatile char *p);
    __declspec(dllexport) int big(int n) { volatile char b[0x2000]; b[n] = 1; sink(b); return b[3]; }
    __declspec(dllexport) int small(int n) { volatile char b[0x40]; b[n] = 1; sink(b); return b[3]; }
    __declspec(dllexport) int clobbers(int n) {
      __asm__ volatile("" ::: "rbx", "rsi", "rdi", "r12", "r13", "r14", "r15", "xmm6", "xmm7");
      volatile char b[0x20]; b[n] = 1; sink(b); return b[2];
    }
    __declspec(dllexport) int framed(int n) {
      volatile char *p = __builtin_alloca(n); p[0] = 1; sink(p); return p[1];
    }
    void sink(volatile char *p) { p[1] = 2; }
    void __chkstk(void) {}
    """

  /// The stack effects written here are the oracle of the virtualUnwind tests.
  static let assembly = """
      .text
      .globl machframe
      .def machframe; .scl 2; .type 32; .endef
      .seh_proc machframe
    machframe:
      .seh_pushframe @code
      push rbp
      .seh_pushreg rbp
      sub rsp, 0x18
      .seh_stackalloc 0x18
      .seh_endprologue
      add rsp, 0x18
      pop rbp
      ret
      .seh_endproc

      .globl saves
      .def saves; .scl 2; .type 32; .endef
      .seh_proc saves
    saves:
      push rbp
      .seh_pushreg rbp
      sub rsp, 0x90000
      .seh_stackalloc 0x90000
      lea rbp, [rsp + 0x20]
      .seh_setframe rbp, 0x20
      mov [rsp + 0x40], rbx
      .seh_savereg rbx, 0x40
      mov [rsp + 0x88000], rsi
      .seh_savereg rsi, 0x88000
      movaps [rsp + 0x50], xmm6
      .seh_savexmm xmm6, 0x50
      movaps [rsp + 0x88010], xmm7
      .seh_savexmm xmm7, 0x88010
      .seh_endprologue
      ret
      .seh_endproc

    """

  private static func build() throws -> String {
    let dir = try TestData.temporaryDirectory("unwind").path
    try c.write(toFile: dir + "/u.c", atomically: true, encoding: .utf8)
    try assembly.write(toFile: dir + "/s.s", atomically: true, encoding: .utf8)
    let clang = try TestData.which("clang")
    func run(_ tool: String, _ args: [String]) throws {
      let r = try TestData.run(tool, args)
      guard r.status == 0 else { throw TestDataError.tool("\(tool) \(args) failed: \(r.stderr)") }
    }
    try run(clang, ["--target=x86_64-pc-windows-msvc", "-O1", "-c", dir + "/u.c", "-o", dir + "/u.obj"])
    try run(clang, ["--target=x86_64-pc-windows-msvc", "-masm=intel", "-c", dir + "/s.s", "-o", dir + "/s.obj"])
    try run(
      try TestData.which("lld-link"),
      [
        "/dll", "/noentry", "/nodefaultlib", "/machine:x64", "/out:\(dir)/u.dll", dir + "/u.obj", dir + "/s.obj",
        "/export:machframe", "/export:saves",
      ])
    return dir + "/u.dll"
  }
}
