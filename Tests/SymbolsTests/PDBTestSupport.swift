// Test support for the PDB reader: C sources with kernel-like types built into PDBs by clang +
// lld-link (cached per test run), parsers for llvm-pdbutil's text output (the independent oracle),
// Volatility 3's pdbconv, and a synthesiser of small MSF files for the bad-input tests.

import Foundation
import TestData

@testable import Symbols

#if canImport(Glibc)
  import Glibc
#endif

/// Builds and caches the test PDBs.
enum PDBFixtures {
  /// Kernel-like C types: LIST_ENTRY, unions, bitfields, anonymous nested structs and unions, multi-
  /// dimensional arrays, self pointers, a forward-declared struct used via pointer and defined later,
  /// enums, a function-pointer field, exported and static globals and functions.
  static let kernelSource = """
    typedef unsigned short wchar_t;
    typedef struct _LIST_ENTRY { struct _LIST_ENTRY *Flink; struct _LIST_ENTRY *Blink; } LIST_ENTRY;
    struct _LATER;
    typedef enum _KMODE { KernelMode = 0, UserMode = 1, MaximumMode = 0x7fffffff } KMODE;
    typedef enum _SMALL_ENUM { SmallA = -1, SmallB = 300 } SMALL_ENUM;
    typedef struct _DEV {
      LIST_ENTRY Links;
      struct _DEV *Self;
      struct _LATER *Fwd;
      union _UFLAGS { unsigned long Flags; struct { unsigned long A : 3; unsigned long B : 5; unsigned long C : 24; }; } U;
      union { int x; float y; };
      struct { short Lo; short Hi; };
      unsigned char Grid[3][5];
      unsigned short Name[16];
      long long (*Routine)(void *ctx, int n);
      KMODE Mode;
      unsigned long long Big : 40;
      unsigned long long Small : 24;
      const volatile int *Cv;
      char Tail[2][3][4];
      void *Handles[7];
      struct _DEV **Children;
      double D;
      wchar_t W;
      unsigned char Flag;
      SMALL_ENUM Se;
    } DEV;
    typedef struct _LATER { int v; DEV *back; LIST_ENTRY Entry; } LATER;
    typedef struct _CALLBACK_BLOCK { void *RundownProtect; void *Function; void *Context; } CALLBACK_BLOCK;
    __declspec(dllexport) DEV gDev;
    __declspec(dllexport) LIST_ENTRY PsLoadedModuleList;
    __declspec(dllexport) CALLBACK_BLOCK *PspCreateProcessNotifyRoutine[64];
    static LATER sLater;
    int gInit = 5;
    static int sCounter;
    __declspec(dllexport) int __stdcall KeFoo(int a, int b) { sCounter += a; return sLater.v + gDev.Mode + b; }
    static int helper(DEV *d) { return (int)d->U.Flags + sCounter + d->Se; }
    __declspec(dllexport) int __fastcall FastOne(int a) { return helper(&gDev) + a + gInit; }
    __declspec(dllexport) int Plain(void) { return PspCreateProcessNotifyRoutine[0] != 0; }
    """

  /// A member whose type is a nested *named* union gives LF_NESTTYPE, which pdbconv cannot read;
  /// this extra part is only in the llvm-pdbutil fixture.
  static let nestedSource = """
    struct _NESTED_HOLDER {
      union { unsigned long All; struct { unsigned long Lo : 16; unsigned long Hi : 16; } Parts; } U;
      struct { int a; int b[2]; } Pair;
      struct _NESTED_HOLDER *Next;
    };
    __declspec(dllexport) struct _NESTED_HOLDER gNested;
    """

  /// C++: base classes (plain and virtual), virtual and overloaded methods, a static member, nested
  /// types, an enum class, a forward-declared struct resolved by its unique (decorated) name.
  static let cppSource = """
    extern "C" int atexit(void (*)(void)) { return 0; }
    void operator delete(void *, unsigned long long) noexcept {}
    void operator delete(void *) noexcept {}
    namespace nt {
    struct Fwd;
    struct Base { int b; virtual ~Base() {} virtual int Get() { return b; } };
    struct Other { long long o; };
    struct Derived : Base, Other {
      enum class Color : unsigned char { Red = 1, Green = 2 };
      struct Inner { short s; Inner *self; };
      static int sCount;
      Inner in;
      Color col;
      Fwd *fwd;
      unsigned flags : 3;
      int Get() override { return 2; }
      void Over(int) {}
      void Over(long) {}
    };
    struct VB : virtual Base { int v; };
    struct Fwd { Derived *back; int n; };
    int Derived::sCount = 1;
    }
    __declspec(dllexport) nt::Derived gDerived;
    __declspec(dllexport) nt::VB gVB;
    __declspec(dllexport) nt::Fwd gFwd;
    __declspec(dllexport) int useAll() {
      gDerived.Over(1); gDerived.Over(1L); return gDerived.Get() + gVB.v + gFwd.n + nt::Derived::sCount;
    }
    """

  struct Built: Sendable {
    let dll: String
    let pdb: String
  }

  nonisolated(unsafe) private static var cache: [String: Built] = [:]
  private static let lock = NSLock()

  /// Compiles `source` for `target` and links a DLL + PDB; cached by `key` for the test run.
  static func build(
    _ key: String, source: String, target: String = "x86_64-pc-windows-msvc", cplusplus: Bool = false
  ) throws -> Built {
    lock.lock()
    defer { lock.unlock() }
    if let b = cache[key] { return b }
    // Reused across runs: a folder under the test-data cache named by the key and a hash of the inputs.
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in (source + target + (cplusplus ? "c++" : "c")).utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    let root = TestData.cacheDir.appendingPathComponent("pdb-fixtures")
    let dir = root.appendingPathComponent("\(key)-\(String(hash, radix: 16))")
    let dll = dir.appendingPathComponent("\(key).dll").path
    let pdb = dir.appendingPathComponent("\(key).pdb").path
    if !FileManager.default.fileExists(atPath: pdb) {
      try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
      let work = try TestData.temporaryDirectory("pdb-\(key)")
      let c = work.appendingPathComponent(cplusplus ? "\(key).cpp" : "\(key).c").path
      try source.write(toFile: c, atomically: true, encoding: .utf8)
      let obj = work.appendingPathComponent("\(key).obj").path
      let cc = try TestData.run(
        "/opt/swift/usr/bin/clang",
        ["--target=\(target)", "-g", "-gcodeview"] + (cplusplus ? ["-fno-rtti"] : []) + ["-c", c, "-o", obj])
      guard cc.status == 0 else { throw TestDataError.tool("clang failed: \(cc.stderr)") }
      let machine = target.hasPrefix("i686") ? "/machine:x86" : "/machine:x64"
      let outDll = work.appendingPathComponent("\(key).dll").path
      let outPdb = work.appendingPathComponent("\(key).pdb").path
      let ld = try TestData.run(
        "/opt/swift/usr/bin/lld-link",
        ["/debug", "/dll", "/noentry", machine, "/out:\(outDll)", "/pdb:\(outPdb)", obj])
      guard ld.status == 0 else { throw TestDataError.tool("lld-link failed: \(ld.stderr)") }
      try? FileManager.default.removeItem(atPath: obj)
      try? FileManager.default.removeItem(atPath: c)
      // Another process may have finished first; then its copy is used and ours dropped.
      if rename(work.path, dir.path) != 0 { try? FileManager.default.removeItem(at: work) }
    }
    let b = Built(dll: dll, pdb: pdb)
    cache[key] = b
    return b
  }

  static func kernel64() throws -> Built { try build("k64", source: kernelSource + nestedSource) }
  static func cpp() throws -> Built { try build("cpp", source: cppSource, cplusplus: true) }
  static func kernelForVolatility() throws -> Built { try build("kvol", source: kernelSource) }
  static func kernel32() throws -> Built {
    try build("k32", source: kernelSource + nestedSource, target: "i686-pc-windows-msvc")
  }
}

/// Runs llvm-pdbutil and returns its stdout (a failure to run is a test failure).
func pdbutil(_ args: [String]) throws -> String {
  let r = try TestData.run(try TestData.which("llvm-pdbutil"), args)
  guard r.status == 0 else { throw TestDataError.tool("llvm-pdbutil \(args) failed: \(r.stderr)") }
  return r.stdout
}

/// Runs Volatility 3's pdbconv on `pdb` and returns the parsed JSON.
func pdbconv(_ pdb: String) throws -> [String: Any] {
  let dir = try TestData.temporaryDirectory("pdbconv")
  defer { try? FileManager.default.removeItem(at: dir) }
  let out = dir.appendingPathComponent("out.json").path
  let r = try TestData.run(
    try volatilityPython(), ["-m", "volatility3.framework.symbols.windows.pdbconv", "-f", pdb, "-o", out])
  guard r.status == 0, let json = try TestData.json(out) as? [String: Any] else {
    throw TestDataError.tool("pdbconv failed: \(r.stderr.suffix(2000))")
  }
  return json
}

/// A python3 that can import volatility3 (PATH first, then pyenv's shims), or an error naming it.
func volatilityPython() throws -> String {
  let env = ProcessInfo.processInfo.environment
  let home = env["HOME"] ?? "/root"
  var candidates = (env["PATH"] ?? "").split(separator: ":").map { "\($0)/python3" }
  candidates += ["\(home)/.pyenv/shims/python3", "/usr/local/bin/python3", "/usr/bin/python3"]
  for c in candidates where FileManager.default.isExecutableFile(atPath: c) {
    if let r = try? TestData.run(c, ["-c", "import volatility3"]), r.status == 0 { return c }
  }
  throw TestDataError.missingTool("python3 with volatility3")
}

/// First capture group of `pattern` in `text`.
func capture(_ pattern: String, in text: String) -> [String]? {
  guard let re = try? NSRegularExpression(pattern: pattern),
    let m = re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text))
  else { return nil }
  return (1..<m.numberOfRanges).compactMap { Range(m.range(at: $0), in: text).map { String(text[$0]) } }
}

/// Every match of `pattern` in `text`, as capture groups.
func captures(_ pattern: String, in text: String) -> [[String]] {
  guard let re = try? NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines]) else { return [] }
  return re.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { m in
    (1..<m.numberOfRanges).map { Range(m.range(at: $0), in: text).map { String(text[$0]) } ?? "" }
  }
}
