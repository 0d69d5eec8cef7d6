// The source `watch` reads: a guest RAM file with its layout, and QEMU's QMP monitor when given.
// Layout: `--ram-layout` when given; else QEMU's own (`info mtree` through QMP) when `--qmp` is
// given; else flat (file offset = physical address, as a raw image or a small PC guest has it).

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
    var layout: GuestRAMLayout
    var source: String
    if let ramLayout {
      layout = try GuestRAMLayout(parsing: ramLayout, fileSize: size)
      source = "--ram-layout \(ramLayout)"
    } else if let qmp {
      let backends = try qmp.memoryBackends()
      // The backend as large as the file first: that is the one mapped from it.
      let ordered = backends.filter { $0.size == size } + backends.filter { $0.size != size }
      var found: (GuestRAMLayout, String)?
      for backend in ordered {
        if let l = try qmp.ramLayout(backend: backend.id) {
          found = (l, backend.id)
          break
        }
      }
      guard let (l, id) = found else {
        throw LiveError.qmpProtocol(
          path: qmp.path,
          reason: "info mtree shows no ram-below-4g alias of a memory backend "
            + "(\(backends.map(\.id).joined(separator: ", "))); give --ram-layout")
      }
      layout = l
      source = "QMP info mtree (backend \(id))"
    } else {
      layout = .flat(size: size)
      source = "flat"
      if size >= 0xb000_0000 {
        notes(
          "\(path) is \(size >> 20) MiB: a QEMU PC guest this large has RAM above 4 GiB; "
            + "give --qmp or --ram-layout pc|q35 unless the file is a flat physical image")
      }
    }
    return WatchSource(ram: try GuestRAM(path: path, layout: layout), qmp: qmp, layoutSource: source)
  }
}
