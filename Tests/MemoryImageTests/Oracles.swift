// Independent readers used as oracles: kdmp-parser (64-bit crash dumps) and Volatility 3's
// physical layers (32-bit crash dumps, LiME, VMware), driven through small Python scripts that
// write every present page to a file.

import Foundation
import TestData

/// Pages an oracle found: present page numbers and, for each, its 4 KiB of bytes.
struct OraclePages {
  var present: [UInt64]
  var pages: [UInt64: [UInt8]]
  var extra: [String: Any]
}

enum Oracles {
  static let volatilityScript = """
    import sys, json
    from volatility3.framework import contexts
    from volatility3.framework.layers import physical, crash, lime, vmware
    kind, path, meta, out, maxpfn = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    ctx = contexts.Context()
    ctx.config['base.location'] = 'file://' + path
    ctx.layers.add_layer(physical.FileLayer(ctx, 'base', 'base'))
    ctx.config['top.base_layer'] = 'base'
    extra = {}
    if kind == 'crash32':
        layer = crash.WindowsCrashDump32Layer(ctx, 'top', 'top'); extra['dtb'] = layer.dtb
    elif kind == 'crash64':
        layer = crash.WindowsCrashDump64Layer(ctx, 'top', 'top'); extra['dtb'] = layer.dtb
    elif kind == 'lime':
        layer = lime.LimeLayer(ctx, 'top', 'top')
    else:
        ctx.config['meta.location'] = 'file://' + meta
        ctx.layers.add_layer(physical.FileLayer(ctx, 'meta', 'meta'))
        ctx.config['top.meta_layer'] = 'meta'
        layer = vmware.VmwareLayer(ctx, 'top', 'top')
    ctx.layers.add_layer(layer)
    present = []
    with open(out, 'wb') as f:
        for pfn in range(maxpfn):
            if layer.is_valid(pfn * 0x1000, 0x1000):
                present.append(pfn); f.write(layer.read(pfn * 0x1000, 0x1000))
    extra['present'] = present
    print(json.dumps(extra))
    """

  static let kdmpScript = """
    import sys, json, kdmp_parser
    d = kdmp_parser.KernelDumpParser(sys.argv[1])
    present = sorted(p // 0x1000 for p in d.pages.keys())
    with open(sys.argv[2], 'wb') as f:
        for pfn in present: f.write(bytes(d.read_physical_page(pfn * 0x1000)))
    h = d.header
    print(json.dumps({'present': present, 'dtb': d.directory_table_base, 'type': int(d.type),
        'MajorVersion': h.MajorVersion, 'MinorVersion': h.MinorVersion, 'DirectoryTableBase': h.DirectoryTableBase,
        'PfnDatabase': h.PfnDatabase, 'PsLoadedModuleList': h.PsLoadedModuleList,
        'PsActiveProcessHead': h.PsActiveProcessHead, 'MachineImageType': h.MachineImageType,
        'NumberProcessors': h.NumberProcessors, 'BugCheckCode': h.BugCheckCode,
        'KdDebuggerDataBlock': h.KdDebuggerDataBlock, 'DumpType': int(h.DumpType.value),
        'RequiredDumpSpace': h.RequiredDumpSpace, 'SystemTime': h.SystemTime, 'SystemUpTime': h.SystemUpTime}))
    """

  static func volatility(_ kind: String, _ path: String, meta: String = "-", maxPage: Int) throws -> OraclePages {
    try run(volatilityScript, [kind, path, meta], maxPage: maxPage)
  }

  static func kdmp(_ path: String) throws -> OraclePages {
    try run(kdmpScript, [path], maxPage: nil)
  }

  private static func run(_ script: String, _ args: [String], maxPage: Int?) throws -> OraclePages {
    let out = try TestData.temporaryDirectory("oracle").appendingPathComponent("pages.bin").path
    var arguments = args + [out]
    if let maxPage { arguments.append(String(maxPage)) }
    let json = try Fixtures.python(script, arguments)
    let present = (json["present"] as? [NSNumber] ?? []).map(\.uint64Value)
    let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: out)))
    var pages: [UInt64: [UInt8]] = [:]
    for (i, pfn) in present.enumerated() where (i + 1) * 0x1000 <= data.count {
      pages[pfn] = Array(data[(i * 0x1000)..<((i + 1) * 0x1000)])
    }
    return OraclePages(present: present, pages: pages, extra: json)
  }
}
