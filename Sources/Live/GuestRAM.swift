// A running guest's RAM as physical memory: a file that something else keeps writing (QEMU's
// memory-backend file or memfd, or a raw image rewritten in place), read with pread rather than
// mapped, so a file that shrinks under us is an error and never a SIGBUS.
//
// Between `beginTick()` and `endTick()` every 4 KiB page read is kept, so each page is read once
// per tick and the tick sees one copy of it; `endTick()` reads the kept pages again and says how
// many changed meanwhile (the walk may then have followed a list that was being rewritten).
//
// Copies are kept for at most `maxKeptPages` pages (128 MiB): a tick reads a few hundred pages on a
// normal system (248–268 on win10-19041-clean), but a crafted guest (long lists, thousands of
// processes) can make the bounded walks touch far more, and copies must not grow RSS with them. Past the bound a page is read from
// the file at each use and only its digest is kept (a seeded Hasher: a guest cannot aim at a
// collision); a read that differs from its digest, within the tick or at its end, counts as
// changed. So every page a tick reads is checked, however large the guest; the digests themselves
// are bounded by the guest's size (one per page, at most RAM / 4 KiB).

import BinaryReading
import Foundation
import MemoryImage

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Guest physical memory read from a RAM file through a `GuestRAMLayout`.
public final class GuestRAM: PhysicalMemory, @unchecked Sendable {
  // @unchecked: the descriptor, the size and the kept pages change only under `lock`.
  public let path: String
  public let layout: GuestRAMLayout
  public var formatName: String { "guest-ram" }
  public let ranges: [PhysicalRange]

  /// The page size pages are kept in.
  public static let pageSize = 4096
  /// At most this many pages are kept as copies per tick (128 MiB); past it only digests are kept.
  public let maxKeptPages: Int

  private let lock = NSLock()
  private var fd: Int32
  private var identity: (device: UInt64, inode: UInt64)
  private var size: UInt64
  private var keeping = false
  private var kept: [UInt64: [UInt8]] = [:]
  /// Pages read past `maxKeptPages`: the digest of their first read this tick.
  private var digests: [UInt64: Int] = [:]
  /// Pages past `maxKeptPages` read twice this tick with different bytes.
  private var changedWithin = Set<UInt64>()

  /// Opens `path` (a regular file or a memfd under /proc/PID/fd) read-only; the file must hold
  /// every byte `layout` places.
  public init(path: String, layout: GuestRAMLayout, maxKeptPages: Int = 32_768) throws(LiveError) {
    self.path = path
    self.layout = layout
    self.maxKeptPages = maxKeptPages
    let (fd, identity, size) = try Self.open(path)
    self.fd = fd
    self.identity = identity
    self.size = size
    self.ranges = layout.segments.map { PhysicalRange(start: $0.guest, length: $0.length) }
    guard size >= layout.fileBytesNeeded else {
      Glibc.close(fd)
      throw .truncated(path: path, size: size, needed: layout.fileBytesNeeded)
    }
  }

  deinit { Glibc.close(fd) }

  /// The file's size when last checked.
  public var fileSize: UInt64 { lock.withLock { size } }

  private static func open(_ path: String) throws(LiveError) -> (Int32, (UInt64, UInt64), UInt64) {
    let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .unreadable(path: path, reason: errnoText()) }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      let reason = errnoText()
      Glibc.close(fd)
      throw .unreadable(path: path, reason: reason)
    }
    guard (st.st_mode & S_IFMT) == S_IFREG, st.st_size >= 0 else {
      Glibc.close(fd)
      throw .unreadable(path: path, reason: "not a regular file")
    }
    return (fd, (UInt64(st.st_dev), UInt64(st.st_ino)), UInt64(st.st_size))
  }

  private static func errnoText() -> String { String(cString: strerror(errno)) }

  /// Checks the source before a tick: still there, still large enough. When the path now names
  /// another file (a snapshot replaced by rename), that file is opened instead.
  public func checkSource() throws(LiveError) {
    var st = stat()
    guard stat(path, &st) == 0 else {
      throw .unreadable(path: path, reason: "\(Self.errnoText()) (the source vanished)")
    }
    let now = (UInt64(st.st_dev), UInt64(st.st_ino))
    lock.lock()
    defer { lock.unlock() }
    do {
      if now != identity {
        let (newFD, newIdentity, newSize) = try Self.open(path)
        Glibc.close(fd)
        fd = newFD
        identity = newIdentity
        size = newSize
      } else {
        var fst = stat()
        guard fstat(fd, &fst) == 0 else { throw .unreadable(path: path, reason: Self.errnoText()) }
        size = UInt64(max(fst.st_size, 0))
      }
      guard size >= layout.fileBytesNeeded else {
        throw .truncated(path: path, size: size, needed: layout.fileBytesNeeded)
      }
    }
  }

  /// Starts a tick: pages read from now on are kept (and read once) until `endTick()`.
  public func beginTick() {
    lock.withLock {
      kept.removeAll(keepingCapacity: true)
      digests.removeAll(keepingCapacity: true)
      changedWithin.removeAll(keepingCapacity: true)
      keeping = true
    }
  }

  /// Ends a tick: reads every page the tick read again and returns how many differ from what the
  /// tick saw (kept copies compared byte for byte, pages past the bound by digest).
  public func endTick() throws(LiveError) -> Int {
    let (copies, sums, within) = lock.withLock {
      keeping = false
      defer {
        kept.removeAll(keepingCapacity: true)
        digests.removeAll(keepingCapacity: true)
        changedWithin.removeAll(keepingCapacity: true)
      }
      pagesLastTick = kept.count + digests.count
      return (kept, digests, changedWithin)
    }
    var changed = within.count
    var fresh = [UInt8](repeating: 0, count: Self.pageSize)
    for (offset, bytes) in copies {
      let n = try readFile(at: offset, into: &fresh)
      if n != bytes.count || fresh != bytes {
        changed += 1
      }
    }
    for (offset, sum) in sums where !within.contains(offset) {
      let n = try readFile(at: offset, into: &fresh)
      if n != Self.pageSize || Self.digest(fresh) != sum { changed += 1 }
    }
    return changed
  }

  /// Number of pages kept as copies in the current tick.
  public var keptPages: Int { lock.withLock { kept.count } }

  /// Number of pages the last tick read (copies and digests): what `endTick()` checked.
  public var lastTickPages: Int { lock.withLock { pagesLastTick } }
  private var pagesLastTick = 0

  /// A page's digest, seeded per process.
  private static func digest(_ bytes: [UInt8]) -> Int {
    var hasher = Hasher()
    bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    return hasher.finalize()
  }

  /// Reads up to `buffer.count` bytes of the file at `offset` (fewer at its end).
  private func readFile(at offset: UInt64, into buffer: inout [UInt8]) throws(LiveError) -> Int {
    let fd = lock.withLock { self.fd }
    var done = 0
    while done < buffer.count {
      let n = buffer.withUnsafeMutableBytes { p in
        pread(fd, p.baseAddress.map { $0 + done }, p.count - done, off_t(truncatingIfNeeded: offset &+ UInt64(done)))
      }
      if n < 0 {
        if errno == EINTR { continue }
        throw .unreadable(path: path, reason: Self.errnoText())
      }
      if n == 0 { break }
      done += n
    }
    return done
  }

  /// The page of the file at page-aligned `offset`: kept during a tick, else read now.
  private func page(at offset: UInt64) throws(MemoryImageError) -> [UInt8] {
    if let hit = lock.withLock({ keeping ? kept[offset] : nil }) { return hit }
    var bytes = [UInt8](repeating: 0, count: Self.pageSize)
    let n: Int
    do { n = try readFile(at: offset, into: &bytes) } catch {
      throw .io(.io(path: path, message: error.description))
    }
    guard n == Self.pageSize else {
      throw .io(.io(path: path, message: "file ends at \(Hex.format(offset &+ UInt64(n))) (truncated while read)"))
    }
    let beyond = lock.withLock {
      guard keeping else { return false }
      if kept.count < maxKeptPages {
        kept[offset] = bytes
        return false
      }
      return true
    }
    if beyond {
      let sum = Self.digest(bytes)  // hashed outside the lock
      lock.withLock {
        if let first = digests[offset] {
          if first != sum { changedWithin.insert(offset) }
        } else {
          digests[offset] = sum
        }
      }
    }
    return bytes
  }

  public func read(at address: UInt64, count: Int) throws(MemoryImageError) -> [UInt8] {
    guard count >= 0 else { throw .notBacked(path: path, address: address, count: count) }
    if !lock.withLock({ keeping }) { return try readDirect(at: address, count: count) }
    var out = [UInt8]()
    out.reserveCapacity(count)
    var guest = address
    var left = count
    while left > 0 {
      guard let segment = layout.segment(holding: guest) else {
        throw .notBacked(path: path, address: address, count: count)
      }
      let file = segment.fileOffset &+ (guest - segment.guest)  // inside the segment: no overflow (size checked)
      let pageOffset = file & ~UInt64(Self.pageSize - 1)
      let within = Int(file - pageOffset)
      let inSegment = segment.length - (guest - segment.guest)
      let take = min(left, Self.pageSize - within, Int(clamping: inSegment))
      let bytes = try page(at: pageOffset)
      out.append(contentsOf: bytes[within..<(within + take)])
      guest &+= UInt64(take)  // take ≤ bytes left in the segment
      left -= take
    }
    return out
  }

  /// Outside a tick (discovery): the bytes straight from the file, one pread per segment crossed.
  private func readDirect(at address: UInt64, count: Int) throws(MemoryImageError) -> [UInt8] {
    var out = [UInt8]()
    out.reserveCapacity(count)
    var guest = address
    var left = count
    while left > 0 {
      guard let segment = layout.segment(holding: guest) else {
        throw .notBacked(path: path, address: address, count: count)
      }
      let inSegment = segment.length - (guest - segment.guest)
      let take = min(left, Int(clamping: inSegment))
      var bytes = [UInt8](repeating: 0, count: take)
      let n: Int
      do { n = try readFile(at: segment.fileOffset &+ (guest - segment.guest), into: &bytes) } catch {
        throw .io(.io(path: path, message: error.description))
      }
      guard n == take else { throw .io(.io(path: path, message: "file ends inside the read (truncated while read)")) }
      out.append(contentsOf: bytes)
      guest &+= UInt64(take)  // take ≤ bytes left in the segment
      left -= take
    }
    return out
  }

  public func readUInt64(at address: UInt64) throws(MemoryImageError) -> UInt64 {
    let bytes = try read(at: address, count: 8)
    var v: UInt64 = 0
    for (i, b) in bytes.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
    return v
  }

  public func readUInt32(at address: UInt64) throws(MemoryImageError) -> UInt32 {
    let bytes = try read(at: address, count: 4)
    var v: UInt32 = 0
    for (i, b) in bytes.enumerated() { v |= UInt32(b) << (8 * UInt32(i)) }
    return v
  }
}
