// Where guest physical memory lies in a RAM file. A QEMU memory-backend file holds the guest's RAM
// from its first byte on, but the PC machine types map it around the PCI hole: the first
// `below4G` bytes at guest physical 0, the rest from 4 GiB (QEMU hw/i386/pc_piix.c and pc_q35.c,
// the `ram-below-4g` / `ram-above-4g` aliases `info mtree` shows). A raw image (pmemsave, dd) is
// flat: file offset = physical address.

import BinaryReading

/// A guest RAM file's layout: pieces of the file placed at guest physical addresses.
public struct GuestRAMLayout: Sendable, Hashable, CustomStringConvertible {
  /// One contiguous piece: `length` bytes of the file from `fileOffset`, at guest physical `guest`.
  public struct Segment: Sendable, Hashable {
    public var guest: UInt64
    public var fileOffset: UInt64
    public var length: UInt64
    public init(guest: UInt64, fileOffset: UInt64, length: UInt64) {
      self.guest = guest
      self.fileOffset = fileOffset
      self.length = length
    }
  }

  /// Segments sorted by guest address, non-overlapping.
  public let segments: [Segment]

  public init(segments: [Segment]) {
    self.segments = segments.filter { $0.length > 0 }.sorted { $0.guest < $1.guest }
  }

  /// 4 GiB: where RAM above the PCI hole starts on every PC machine type.
  public static let fourGiB: UInt64 = 0x1_0000_0000

  /// The whole file at guest physical 0.
  public static func flat(size: UInt64) -> GuestRAMLayout {
    GuestRAMLayout(segments: [Segment(guest: 0, fileOffset: 0, length: size)])
  }

  /// `below4G` bytes at 0, the rest of `size` from 4 GiB.
  public static func split(size: UInt64, below4G: UInt64) -> GuestRAMLayout {
    let low = min(size, below4G)
    return GuestRAMLayout(segments: [
      Segment(guest: 0, fileOffset: 0, length: low),
      Segment(guest: fourGiB, fileOffset: low, length: size - low),  // low ≤ size
    ])
  }

  /// The PC machine types whose RAM split QEMU documents in its source.
  public enum Machine: String, Sendable, CaseIterable {
    /// i440FX (`-machine pc`, QEMU's default): RAM of 3.5 GiB or more splits at 3 GiB
    /// (gigabyte-aligned since QEMU 1.7), smaller RAM lies wholly below 4 GiB.
    case pc
    /// Q35 (`-machine q35`): RAM of 2.75 GiB or more splits at 2 GiB, smaller RAM lies below 4 GiB.
    case q35

    /// Bytes of RAM below 4 GiB for `ramSize` bytes of RAM (default `max-ram-below-4g`).
    public func below4G(ramSize: UInt64) -> UInt64 {
      switch self {
      case .pc: return ramSize >= 0xe000_0000 ? 0xc000_0000 : ramSize
      case .q35: return ramSize >= 0xb000_0000 ? 0x8000_0000 : ramSize
      }
    }
  }

  /// The default layout of `machine` with `ramSize` bytes of RAM.
  public static func machineDefault(_ machine: Machine, ramSize: UInt64) -> GuestRAMLayout {
    split(size: ramSize, below4G: machine.below4G(ramSize: ramSize))
  }

  /// Parses a `--ram-layout` text for a file of `fileSize` bytes: `flat`, `pc`, `q35` (the machine's
  /// default split of a RAM as large as the file) or `split:SIZE` (SIZE bytes below 4 GiB, `0x…`,
  /// decimal, or with a K/M/G suffix).
  public init(parsing text: String, fileSize: UInt64) throws(LiveError) {
    if text == "flat" {
      self = .flat(size: fileSize)
    } else if let machine = Machine(rawValue: text) {
      self = .machineDefault(machine, ramSize: fileSize)
    } else if text.hasPrefix("split:") {
      guard let below = Self.size(String(text.dropFirst("split:".count))) else {
        throw .badLayout(text: text, reason: "SIZE is not a byte count (0x80000000, 2G, 3072M)")
      }
      guard below <= Self.fourGiB else { throw .badLayout(text: text, reason: "more than 4 GiB below 4 GiB") }
      self = .split(size: fileSize, below4G: below)
    } else {
      throw .badLayout(text: text, reason: "expected flat, pc, q35 or split:SIZE")
    }
  }

  /// A byte count: hex, decimal, or decimal with K, M or G (binary units).
  static func size(_ text: String) -> UInt64? {
    if text.hasPrefix("0x") { return Hex.parse(text) }
    let shifts: [Character: UInt64] = ["K": 10, "M": 20, "G": 30]
    var digits = Substring(text)
    var shift: UInt64 = 0
    if let last = text.last, let s = shifts[last] {
      shift = s
      digits = digits.dropLast()
    }
    guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let n = UInt64(digits) else { return nil }
    let (value, overflow) = n.multipliedReportingOverflow(by: 1 << shift)
    return overflow ? nil : value
  }

  /// The layout QEMU states in `info mtree` (through QMP `human-monitor-command`): the
  /// `ram-below-4g` and `ram-above-4g` aliases of the RAM backend `backend` (lines such as
  /// `0000000100000000-000000013fffffff (prio 0, ram): alias ram-above-4g @ram 00000000c0000000-00000000ffffffff`).
  /// Nil when the text holds neither alias.
  public init?(mtree text: String, backend: String) {
    var found = Set<Segment>()
    for line in text.split(whereSeparator: \.isNewline) {  // HMP text ends its lines with CR LF
      let words = line.split(whereSeparator: \.isWhitespace)
      guard let alias = words.firstIndex(of: "alias"), alias + 3 < words.count,
        words[alias + 1] == "ram-below-4g" || words[alias + 1] == "ram-above-4g",
        words[alias + 2] == "@" + backend,
        let guest = Self.range(words[0]), let file = Self.range(words[alias + 3]), guest.length == file.length
      else { continue }
      found.insert(Segment(guest: guest.start, fileOffset: file.start, length: guest.length))
    }
    guard !found.isEmpty else { return nil }
    self.init(segments: Array(found))
  }

  /// `START-END` (inclusive, hex without 0x) as a start and a length.
  static func range(_ word: Substring) -> (start: UInt64, length: UInt64)? {
    let parts = word.split(separator: "-")
    guard parts.count == 2, let start = UInt64(parts[0], radix: 16), let last = UInt64(parts[1], radix: 16),
      last >= start, last - start < UInt64.max
    else { return nil }
    return (start, last - start + 1)  // last - start < max: no overflow
  }

  /// One past the last file byte the layout uses.
  public var fileBytesNeeded: UInt64 {
    segments.map { s in
      let (end, overflow) = s.fileOffset.addingReportingOverflow(s.length)
      return overflow ? UInt64.max : end
    }.max() ?? 0
  }

  /// The segment holding guest address `address`.
  @inline(__always)
  func segment(holding address: UInt64) -> Segment? {
    for s in segments where address >= s.guest && address - s.guest < s.length { return s }
    return nil
  }

  public var description: String {
    segments.map { "\(Hex.format($0.guest))+\(Hex.format($0.length))@file \(Hex.format($0.fileOffset))" }
      .joined(separator: ", ")
  }
}
