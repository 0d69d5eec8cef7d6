// Test support: a local symbol server (python3 http.server on 127.0.0.1, a free port) serving a
// symbol-store tree in several behaviours chosen by the first path segment, logging each request;
// and two small PDBs built with clang + lld-link whose identity llvm-pdbutil reports.

import Foundation
import Symbols
import TestData

/// A python3 symbol server started for one test.
final class StoreTestServer {
  let process = Process()
  let base: String
  let logPath: String
  let root: URL

  static let script = #"""
    import sys, os, time, struct, zlib, signal, threading, http.server, socketserver
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
    root, log, portfile = sys.argv[1], sys.argv[2], sys.argv[3]
    def cab(data, name, method):
        blocks, prev = [], b''
        for i in range(0, len(data), 32768):
            chunk = data[i:i + 32768]
            if method == 1:
                c = zlib.compressobj(9, zlib.DEFLATED, -15, zdict=prev[-32768:]) if prev else zlib.compressobj(9, zlib.DEFLATED, -15)
                comp = b'CK' + c.compress(chunk) + c.flush()
            else:
                comp = chunk
            blocks.append((comp, len(chunk)))
            prev += chunk
        fname = name.encode() + b'\0'
        coff_files = 36 + 8
        coff_start = coff_files + 16 + len(fname)
        total = coff_start + sum(8 + len(c) for c, _ in blocks)
        out = struct.pack('<4sIIIIIBBHHHHH', b'MSCF', 0, total, 0, coff_files, 0, 3, 1, 1, 1, 0, 0, 0)
        out += struct.pack('<IHH', coff_start, len(blocks), method)
        out += struct.pack('<IIHHHH', len(data), 0, 0, 0, 0, 0x20) + fname
        for c, u in blocks:
            out += struct.pack('<IHH', 0, len(c), u) + c
        return out
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'
        def log_message(self, *a): pass
        def send(self, code, body=b'', headers=()):
            self.send_response(code)
            for k, v in headers: self.send_header(k, v)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def do_GET(self):
            with open(log, 'a') as f: f.write(self.path + '\n')
            parts = self.path.split('/', 2)
            mode, rest = parts[1], parts[2] if len(parts) > 2 else ''
            path = os.path.join(root, rest)
            if mode == 'redir': return self.send(302, b'', [('Location', '/ok/' + rest)])
            if mode == 'loop': return self.send(302, b'', [('Location', '/loop/' + rest)])
            if mode == 'slow': time.sleep(5)
            if mode == 'wrong' and rest.endswith('.pdb'): path = os.path.join(root, 'other.pdb')
            if mode in ('cab', 'lzx'):
                if rest.endswith('.pdb'): return self.send(404)
                path = path[:-1] + 'b'
                if not os.path.isfile(path): return self.send(404)
                data = open(path, 'rb').read()
                return self.send(200, cab(data, os.path.basename(path), 1 if mode == 'cab' else 3))
            if not os.path.isfile(path): return self.send(404)
            data = open(path, 'rb').read()
            if mode == 'trunc':
                self.send_response(200)
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data[:len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.send(200, data)
    class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
    s = S(('127.0.0.1', 0), H)
    with open(portfile + '.tmp', 'w') as f: f.write(str(s.server_address[1]))
    os.rename(portfile + '.tmp', portfile)
    threading.Thread(target=s.serve_forever, daemon=True).start()
    time.sleep(300)  # a watchdog: never outlive a test run
    os._exit(0)
    """#

  /// Starts the server over `root` (a symbol-store tree).
  init(root: URL) throws {
    self.root = root
    let dir = try TestData.temporaryDirectory("symsrv")
    let script = dir.appendingPathComponent("server.py")
    logPath = dir.appendingPathComponent("requests.log").path
    FileManager.default.createFile(atPath: logPath, contents: Data())
    try Data(Self.script.utf8).write(to: script)
    process.executableURL = URL(fileURLWithPath: try TestData.which("python3"))
    let portFile = dir.appendingPathComponent("port").path
    process.arguments = [script.path, root.path, logPath, portFile]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    // The server writes its port to a file once it listens; wait up to 20 s for it.
    var port: String?
    for _ in 0..<400 {
      if let text = try? String(contentsOfFile: portFile, encoding: .utf8), !text.isEmpty {
        port = text
        break
      }
      Thread.sleep(forTimeInterval: 0.05)
    }
    guard let port else {
      process.terminate()
      throw TestDataError.tool("symbol server did not start")
    }
    base = "http://127.0.0.1:\(port)"
  }

  /// The request paths served so far.
  var requests: [String] {
    (try? String(contentsOfFile: logPath, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
  }

  /// Stops the server (SIGKILL: the test process may block SIGTERM, and children inherit the mask).
  func stop() {
    kill(process.processIdentifier, SIGKILL)
  }
}

/// PDBs built for the store tests, with the identity llvm-pdbutil reads from them.
enum StoreTestPDBs {
  /// `tiny.pdb` and `other.pdb` (different GUIDs), built once per test process.
  static let shared:
    Result<(tiny: (path: String, identity: PDBIdentity), other: (path: String, identity: PDBIdentity)), any Error> =
      Result {
        let dir = try TestData.temporaryDirectory("store-pdbs")
        return (try build(in: dir, name: "tiny", constant: 3), try build(in: dir, name: "other", constant: 5))
      }

  /// Builds `name` from a one-function C file (the constant makes each PDB's GUID differ).
  static func build(in dir: URL, name: String, constant: Int) throws -> (path: String, identity: PDBIdentity) {
    let c = dir.appendingPathComponent("\(name).c")
    try Data("int f_\(constant)(int x) { return x * \(constant); }\n".utf8).write(to: c)
    let obj = dir.appendingPathComponent("\(name).obj").path
    let pdb = dir.appendingPathComponent("\(name).pdb").path
    var r = try TestData.run("clang", ["--target=x86_64-pc-windows-msvc", "-gcodeview", "-c", c.path, "-o", obj])
    guard r.status == 0 else { throw TestDataError.tool("clang: \(r.stderr)") }
    r = try TestData.run(
      "lld-link",
      ["/debug", "/dll", "/noentry", "/nodefaultlib", "/out:\(dir.path)/\(name).dll", "/pdb:\(pdb)", obj])
    guard r.status == 0 else { throw TestDataError.tool("lld-link: \(r.stderr)") }
    return (pdb, try identity(of: pdb, name: "\(name).pdb"))
  }

  /// GUID and age as `llvm-pdbutil dump -summary` prints them (the independent oracle).
  static func identity(of pdb: String, name: String) throws -> PDBIdentity {
    let r = try TestData.run("llvm-pdbutil", ["dump", "-summary", pdb])
    var guid: String?
    var age: UInt32?
    for line in r.stdout.split(separator: "\n") {
      let t = line.trimmingCharacters(in: .whitespaces)
      if t.hasPrefix("GUID: ") {
        guid = t.dropFirst(6).filter { $0.isHexDigit }.uppercased()
      } else if t.hasPrefix("Age: ") {
        age = UInt32(t.dropFirst(5))
      }
    }
    guard let guid, let age else { throw TestDataError.tool("llvm-pdbutil summary without GUID/Age: \(r.stdout)") }
    return PDBIdentity(name: name, guid: guid, age: age)
  }
}

/// A stand-in for the PDB reader: a profile that only knows its identity (read by PDBFileIdentity).
struct StubPDBProfile: KernelProfile {
  let identity: PDBIdentity
  let path: String
  init(path: String) throws {
    self.path = path
    identity = try PDBFileIdentity.read(path: path)
  }
  var source: Provenance { .pdb }
  var sourceDescription: String { path }
  func symbol(_ name: String) -> SymbolInfo? {
    name == "StubOnly" ? SymbolInfo(name: name, rva: 0x10, provenance: .pdb) : nil
  }
  func structSize(_ name: String) -> Int? { nil }
  func field(_ structName: String, _ fieldName: String) -> FieldInfo? { nil }
  func enumeration(_ name: String) -> [String: Int64]? { nil }
  var symbolNames: [String] { ["StubOnly"] }
  var structNames: [String] { [] }
  func fields(of structName: String) -> [String: FieldInfo]? { nil }
}
