// The source `watch` reads: a guest RAM file with its layout, and QEMU's QMP monitor when given.
// Layout (RAMLayoutChoice): QEMU's own (`info mtree` through QMP) when `--qmp` is given; else
// `--ram-layout`; else the split of QEMU's default machine type, pc (flat below 3.5 GiB).

import Live
import MemoryImage

/// The RAM file, its layout, and the monitor.
struct WatchSource {
  let ram: GuestRAM
  let qmp: QMPClient?
  /// Where the layout came from (`--ram-layout pc`, `QMP info mtree (backend ram)`, `flat`).
  let layoutSource: String

  /// Opens `path`; `notes` receives what the user should know (printed on stderr).
  static func open(path: String, ramLayout: String?, qmpPath: String?, notes: (String) -> Void) throws -> WatchSource {
    let probe = try GuestRAM(path: path, layout: GuestRAMLayout(segments: []))
    // A file with a format of its own (crash dump, ELF core, LiME, a .vmem with a region table) is
    // not guest RAM: say so rather than read its headers as memory.
    if let image = try? MemoryImageOpener.open(path: path), image.formatName != "raw" {
      throw LiveError.notGuestRAM(path: path, format: image.formatName)
    }
    let size = probe.fileSize
    let qmp = try qmpPath.map { try QMPClient(path: $0) }
    var fromQMP: (layout: GuestRAMLayout, source: String)?
    if let qmp {
      let backends = try qmp.memoryBackends()
      // The backend as large as the file first: that is the one mapped from it.
      let ordered = backends.filter { $0.size == size } + backends.filter { $0.size != size }
      for backend in ordered {
        if let l = try qmp.ramLayout(backend: backend.id) {
          fromQMP = (l, "QMP info mtree (backend \(backend.id))")
          break
        }
      }
      // QEMU states no split (a machine type without the PC aliases): --ram-layout decides.
      guard fromQMP != nil || ramLayout != nil else {
        throw LiveError.qmpProtocol(
          path: qmp.path,
          reason: "info mtree shows no ram-below-4g alias of a memory backend "
            + "(\(backends.map(\.id).joined(separator: ", "))); give --ram-layout")
      }
    }
    let choice = try RAMLayoutChoice(fileSize: size, fromQMP: fromQMP, requested: ramLayout)
    choice.notes.forEach(notes)
    return WatchSource(ram: try GuestRAM(path: path, layout: choice.layout), qmp: qmp, layoutSource: choice.source)
  }
}
