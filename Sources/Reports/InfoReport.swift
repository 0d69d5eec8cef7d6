// `callscope info`: what the image is and where its kernel is.

import AddressSpace
import BinaryReading
import MemoryImage
import WindowsKernel

/// The `info` command's report.
public struct InfoReport: Sendable {
  public var context: ReportContext
  public var kernelSize: UInt64?
  public var dtbSource: String
  public var pagingSource: String
  public var kernelNotFound: String?
  public var candidates: [DTBCandidate]
  public var warnings: [String]
  /// Set for images CallScope synthesised itself (the bundled demo).
  public var synthetic: Bool
  /// Where the layouts and the addresses came from (JSON `symbols`), when a profile was loaded.
  public var symbols: SymbolSourcesReport?

  public init(
    memory: any PhysicalMemory, system: DiscoveredSystem, symbolSource: String? = nil, synthetic: Bool = false
  ) {
    context = ReportContext(memory: memory, system: system, symbolSource: symbolSource)
    kernelSize = system.kernel?.size
    dtbSource = system.dtbSource
    pagingSource = system.pagingSource
    kernelNotFound = system.kernelError?.description
    candidates = system.candidates
    warnings = system.kernel == nil ? system.warnings : []
    self.synthetic = synthetic
  }

  /// The JSON document.
  public var json: JSONValue {
    var members = context.header
    members.append(("dtbSource", .string(dtbSource)))
    members.append(("pagingSource", .string(pagingSource)))
    members.append(("kernelSize", kernelSize.map { .address($0) } ?? .null))
    members.append(("pdbPath", .string(context.kernel?.pdbPath)))
    members.append(("synthetic", .bool(synthetic)))
    members.append(("symbols", symbols?.json ?? .null))
    members.append(
      (
        "notLocated",
        kernelNotFound.map { .array([.object([("what", .string("kernel")), ("reason", .string($0))])]) } ?? .array([])
      ))
    members.append(("warnings", .array(warnings.map { .string($0) })))
    return .object(members)
  }

  /// The human-readable form.
  public var table: String {
    let c = context
    var items: [(String, String)] = []
    if synthetic { items.append(("Note", "SYNTHETIC demo image written by CallScope (not a real machine)")) }
    items += [
      ("Image", c.imagePath),
      ("Format", c.imageFormat),
      ("Size", "\(c.imageSize) bytes"),
      ("Architecture", c.paging.architecture),
      ("Paging", "\(c.paging.rawValue) (\(pagingSource))"),
      ("DTB", "\(Hex.format(c.dtb)) (\(dtbSource))"),
    ]
    if let k = c.kernel {
      items += [
        ("Kernel base", Hex.format(k.base)),
        ("Kernel size", Hex.format(k.size)),
        ("PDB", "\(k.pdb.name) \(k.pdb.guid) age \(k.pdb.age)"),
      ]
    } else {
      items.append(("Kernel", "not found: \(kernelNotFound ?? "unknown")"))
    }
    items.append(("Build", c.build ?? "unknown"))
    if let s = c.symbolSource { items.append(("Symbols", s)) }
    if let symbols {
      items.append(("Layouts", symbols.layouts))
      items.append(("Addresses", symbols.addresses))
      if let note = symbols.note { items.append(("Symbol files", note)) }
      if !symbols.notLocated.isEmpty { items.append(("Not located", symbols.notLocated.joined(separator: ", "))) }
    }
    var text = KeyValueList(items).rendered()
    for w in warnings { text += "warning: \(w)\n" }
    return text
  }
}
