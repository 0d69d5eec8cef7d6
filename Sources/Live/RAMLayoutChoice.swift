// Which layout `watch` reads a RAM file with (issue 15): QEMU's own (`info mtree` through QMP) when
// a QMP socket is given, else `--ram-layout`, else the documented default of QEMU's default machine
// type. `qemu-system-x86_64 -machine help` marks `pc-i440fx-*` (alias `pc`) as the default; its
// split is `GuestRAMLayout.Machine.pc` (RAM of 3.5 GiB or more: 3 GiB below 4 GiB, the rest from
// 4 GiB). RAM smaller than the split lies wholly below 4 GiB, so such a file reads as a flat image.

/// The layout chosen for a RAM file, where it came from, and what the user should be told.
public struct RAMLayoutChoice: Sendable, Equatable {
  /// The machine type QEMU uses when `-machine` names none (x86_64).
  public static let defaultMachine = GuestRAMLayout.Machine.pc

  public var layout: GuestRAMLayout
  /// `QMP info mtree (backend ram)`, `--ram-layout q35`, `pc default (QEMU's default machine)`.
  public var source: String
  /// Remarks for stderr: an ignored `--ram-layout`, a default split the user may not expect.
  public var notes: [String]

  /// Chooses the layout of a `fileSize`-byte file: `fromQMP` (the layout QEMU states and what it was
  /// read from) first, then `requested` (a `--ram-layout` text), then `defaultMachine`'s default.
  public init(fileSize: UInt64, fromQMP: (layout: GuestRAMLayout, source: String)?, requested: String?)
    throws(LiveError)
  {
    notes = []
    if let fromQMP {
      layout = fromQMP.layout
      source = fromQMP.source
      // QEMU knows where it put the RAM; a --ram-layout that disagrees is a user's guess.
      if let requested, try GuestRAMLayout(parsing: requested, fileSize: fileSize) != fromQMP.layout {
        notes.append("--ram-layout \(requested) ignored: QEMU states \(fromQMP.layout) (\(fromQMP.source))")
      }
    } else if let requested {
      layout = try GuestRAMLayout(parsing: requested, fileSize: fileSize)
      source = "--ram-layout \(requested)"
    } else {
      let machine = Self.defaultMachine
      layout = .machineDefault(machine, ramSize: fileSize)
      source = "\(machine.rawValue) default (QEMU's default machine type)"
      if layout != .flat(size: fileSize) {
        notes.append(
          "RAM layout: \(source): \(layout); give --qmp, or --ram-layout q35|flat|split:SIZE "
            + "for a q35 guest or a flat physical image")
      }
    }
  }
}
