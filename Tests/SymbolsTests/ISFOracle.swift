// Test oracle: Python's own `lzma` and `json` (orjson when present) reading the ISF files in
// ../shared/data/isf, independently of the code under test. One python3 run serves many files.

import Foundation
import Symbols
import TestData

/// Values extracted from ISF files by python3.
enum ISFOracle {
  static var isfDir: String { TestData.shared("data/isf/ntkrnlmp.pdb").path }

  static func allFiles() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: isfDir).filter { $0.hasSuffix(".json.xz") }.sorted()
      .map { "\(isfDir)/\($0)" }
  }

  /// Python's rendering of an ISF type, mirrored by `render(_:)` for FieldType.
  static let pythonRender = """
    def render(t):
        k = t['kind']
        if k == 'base': return 'base:' + t['name']
        if k == 'pointer': return 'ptr(' + render(t['subtype']) + ')'
        if k == 'array': return 'arr%d(' % t['count'] + render(t['subtype']) + ')'
        if k in ('struct', 'union', 'class'): return 'struct:' + t['name']
        if k == 'enum': return 'enum:' + t['name']
        if k == 'function': return 'fn'
        if k == 'bitfield': return render(t['type'])
        return 'unknown:' + k

    def field(f):
        t = f['type']
        bp = t.get('bit_position') if t['kind'] == 'bitfield' else None
        bl = t.get('bit_length') if t['kind'] == 'bitfield' else None
        return [f['offset'], render(t), bp, bl]

    """

  static func render(_ t: FieldType) -> String {
    switch t {
    case .base(let name, _): return "base:" + name
    case .pointer(let to, _): return "ptr(" + render(to) + ")"
    case .array(let of, let count): return "arr\(count)(" + render(of) + ")"
    case .structure(let name): return "struct:" + name
    case .enumeration(let name, _): return "enum:" + name
    case .function: return "fn"
    case .unknown(let k): return "unknown:" + k
    }
  }

  /// Runs `script` (which reads sys.argv[1] as a JSON request with a `files` list and writes a JSON
  /// list, one element per file, to sys.argv[2]) in two python3 processes side by side, one per half
  /// of the files, and joins their answers in file order.
  static func run(_ script: String, request: [String: Any], cached: Bool = false) throws -> [Any] {
    // The oracle's answer for the same script and request never changes (the ISF files are
    // read-only reference data), so it may be kept in the test-data cache between runs.
    let requestData = try JSONSerialization.data(withJSONObject: request, options: .sortedKeys)
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in requestData + Data(script.utf8) { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
    let cacheFile = TestData.cacheDir.appendingPathComponent("isf-oracle-\(String(hash, radix: 16)).json")
    if cached, let data = try? Data(contentsOf: cacheFile),
      let list = try JSONSerialization.jsonObject(with: data) as? [Any]
    {
      return list
    }
    let dir = try TestData.temporaryDirectory("isf-oracle")
    defer { try? FileManager.default.removeItem(at: dir) }
    let py = dir.appendingPathComponent("oracle.py")
    try Data(script.utf8).write(to: py)
    let files = request["files"] as? [String] ?? []
    let halves = [Array(files.prefix(files.count / 2)), Array(files.dropFirst(files.count / 2))]
    var jobs: [(req: URL, out: URL)] = []
    for (i, half) in halves.enumerated() {
      var r = request
      r["files"] = half
      let req = dir.appendingPathComponent("req\(i).json")
      try JSONSerialization.data(withJSONObject: r).write(to: req)
      jobs.append((req, dir.appendingPathComponent("out\(i).json")))
    }
    let failures = Failures()
    let args = jobs.map { [py.path, $0.req.path, $0.out.path] }
    DispatchQueue.concurrentPerform(iterations: args.count) { i in
      do {
        let r = try TestData.run("python3", args[i])
        if r.status != 0 { failures.add("python3 oracle failed: \(r.stderr)") }
      } catch {
        failures.add("\(error)")
      }
    }
    if let f = failures.first { throw TestDataError.tool(f) }
    var list: [Any] = []
    for job in jobs {
      list += try JSONSerialization.jsonObject(with: Data(contentsOf: job.out)) as? [Any] ?? []
    }
    if cached {
      try? FileManager.default.createDirectory(at: TestData.cacheDir, withIntermediateDirectories: true)
      try? JSONSerialization.data(withJSONObject: list).write(to: cacheFile, options: .atomic)
    }
    return list
  }

  /// Error messages from concurrent oracle runs.
  final class Failures: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var messages: [String] = []
    func add(_ m: String) {
      lock.lock()
      messages.append(m)
      lock.unlock()
    }
    var first: String? {
      lock.lock()
      defer { lock.unlock() }
      return messages.first
    }
  }

  /// The python prelude: fast JSON loading of a (.xz) file.
  static let prelude = """
    import sys, json, lzma, gzip
    try:
        import orjson
        loads = orjson.loads
    except ImportError:
        loads = json.loads
    def load(path):
        if path.endswith('.xz'): data = lzma.open(path).read()
        elif path.endswith('.gz'): data = gzip.open(path).read()
        else: data = open(path, 'rb').read()
        return loads(data)

    """
}
