// Python `pefile` as the oracle for what llvm-readobj does not print: the version resource, the x64
// function table, the checksum and export forwarders. Its output is JSON made by the script below.

import Foundation
import TestData

/// What pefile reports for one file.
struct PefileReport {
  var checkSum: UInt64
  var fileVersion: String?
  var productVersion: String?
  var fileVersionMS: UInt64?
  var fileVersionLS: UInt64?
  var strings: [String: [String: String]]  // table key → key → value
  var translations: [UInt64]
  var exceptions: [[UInt64]]  // begin, end, unwind
  var exports: [(ordinal: UInt64, name: String?, rva: UInt64, forwarder: String?)]

  static let script = #"""
    import json, sys, pefile
    p = pefile.PE(sys.argv[1], fast_load=True)
    d = pefile.DIRECTORY_ENTRY
    p.parse_data_directories(directories=[d['IMAGE_DIRECTORY_ENTRY_RESOURCE'], d['IMAGE_DIRECTORY_ENTRY_EXCEPTION'],
                                          d['IMAGE_DIRECTORY_ENTRY_EXPORT']])
    out = {'checksum': p.OPTIONAL_HEADER.CheckSum, 'strings': {}, 'translations': [], 'exceptions': [], 'exports': []}
    if hasattr(p, 'VS_FIXEDFILEINFO'):
        f = p.VS_FIXEDFILEINFO[0]
        out['fileVersionMS'] = f.FileVersionMS
        out['fileVersionLS'] = f.FileVersionLS
        out['fileVersion'] = '%d.%d.%d.%d' % (f.FileVersionMS >> 16, f.FileVersionMS & 0xffff,
                                              f.FileVersionLS >> 16, f.FileVersionLS & 0xffff)
        out['productVersion'] = '%d.%d.%d.%d' % (f.ProductVersionMS >> 16, f.ProductVersionMS & 0xffff,
                                                 f.ProductVersionLS >> 16, f.ProductVersionLS & 0xffff)
    for info in getattr(p, 'FileInfo', [[]])[0] if getattr(p, 'FileInfo', None) else []:
        if info.Key == b'StringFileInfo':
            for t in info.StringTable:
                out['strings'][t.LangID.decode()] = {k.decode(): v.decode() for k, v in t.entries.items()}
        if info.Key == b'VarFileInfo':
            for v in info.Var:
                for val in v.entry.values():
                    a, b = val.split()
                    out['translations'].append(int(a, 16) | (int(b, 16) << 16))
    for e in getattr(p, 'DIRECTORY_ENTRY_EXCEPTION', []):
        out['exceptions'].append([e.struct.BeginAddress, e.struct.EndAddress, e.struct.UnwindData])
    if hasattr(p, 'DIRECTORY_ENTRY_EXPORT'):
        for s in p.DIRECTORY_ENTRY_EXPORT.symbols:
            out['exports'].append([s.ordinal, s.name.decode() if s.name else None, s.address,
                                   s.forwarder.decode() if s.forwarder else None])
    print(json.dumps(out))
    """#

  /// Runs pefile on `path`.
  static func run(_ path: String) throws -> PefileReport {
    let result = try python(["-c", script, path])
    guard result.status == 0, let json = try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any]
    else { throw TestDataError.tool("pefile failed on \(path): \(result.stderr)") }
    func num(_ any: Any?) -> UInt64? { (any as? NSNumber)?.uint64Value }
    return PefileReport(
      checkSum: num(json["checksum"]) ?? 0, fileVersion: json["fileVersion"] as? String,
      productVersion: json["productVersion"] as? String, fileVersionMS: num(json["fileVersionMS"]),
      fileVersionLS: num(json["fileVersionLS"]), strings: json["strings"] as? [String: [String: String]] ?? [:],
      translations: (json["translations"] as? [Any] ?? []).compactMap(num),
      exceptions: (json["exceptions"] as? [[Any]] ?? []).map { $0.compactMap(num) },
      exports: (json["exports"] as? [[Any]] ?? []).map { row in
        (num(row[0]) ?? 0, row[1] as? String, num(row[2]) ?? 0, row[3] as? String)
      })
  }

  /// pefile's memory-mapped image of `path` (headers and sections at their RVAs), written to `out`.
  static func mappedImage(_ path: String, to out: String) throws {
    let script = "import sys, pefile\nopen(sys.argv[2], 'wb').write(pefile.PE(sys.argv[1]).get_memory_mapped_image())"
    let result = try python(["-c", script, path, out])
    guard result.status == 0 else { throw TestDataError.tool("pefile mapping failed: \(result.stderr)") }
  }
}

/// Runs the `python3` found on PATH by the shell's rules (through `env`, so version-manager shims
/// such as pyenv's are honoured: pefile is installed for that interpreter).
func python(_ arguments: [String]) throws -> TestData.ProcessResult {
  try TestData.run("/usr/bin/env", ["python3"] + arguments)
}
