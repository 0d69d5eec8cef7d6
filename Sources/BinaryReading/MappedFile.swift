// A read-only memory mapping of a whole file: images and PDBs are never loaded whole; the
// kernel pages in only what is touched.

import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A file mapped read-only into memory. Reads are bounds-checked copies or zero-copy loads.
public final class MappedFile: ByteSource, @unchecked Sendable {
  // @unchecked: the mapping is immutable (PROT_READ) for the object's whole life.
  public let path: String
  public let size: UInt64
  @usableFromInline let base: UnsafeRawPointer?
  let mappedLength: Int
  /// Device and inode of the mapped file (to recognise it when reopened for `dataExtents`).
  let identity: (device: UInt64, inode: UInt64)
  /// The mapping's slot in MappingGuard (a shrinking file becomes an error, not SIGBUS).
  let guardSlot: Int?

  public var sourceName: String { path }

  /// Maps `path` read-only. An empty file maps to an empty source.
  public init(path: String) throws(BinaryReadError) {
    self.path = path
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is then refused below).
    let fd = open(path, O_RDONLY | O_NONBLOCK)
    guard fd >= 0 else { throw .io(path: path, message: "cannot open: \(Self.errnoText())") }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw .io(path: path, message: "cannot stat: \(Self.errnoText())") }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
      throw .io(path: path, message: "not a regular file (\(Self.kind(st.st_mode))), expected a file to read")
    }
    guard st.st_size >= 0, let length = Int(exactly: st.st_size) else {
      throw .io(path: path, message: "unsupported file size")
    }
    self.size = UInt64(length)
    self.mappedLength = length
    self.identity = (UInt64(st.st_dev), UInt64(st.st_ino))
    if length == 0 {
      self.base = nil
      self.guardSlot = nil
      return
    }
    guard let p = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
      throw .io(path: path, message: "cannot map \(length) bytes: \(Self.errnoText())")
    }
    self.base = UnsafeRawPointer(p)
    self.guardSlot = MappingGuard.register(start: UnsafeRawPointer(p), length: length, path: path)
  }

  deinit {
    if let guardSlot { MappingGuard.unregister(guardSlot) }
    if let base { munmap(UnsafeMutableRawPointer(mutating: base), mappedLength) }
  }

  /// What a non-regular file is, for the error.
  private static func kind(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFDIR: return "a directory"
    case S_IFIFO: return "a FIFO"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    case S_IFSOCK: return "a socket"
    default: return "mode \(String(mode & S_IFMT, radix: 8))"
    }
  }

  private static func errnoText() -> String { String(cString: strerror(errno)) }

  private func check(_ offset: UInt64, _ count: Int) throws(BinaryReadError) {
    guard count >= 0 else {
      throw .invalid(source: path, offset: offset, message: "negative read length \(count)")
    }
    let (end, overflow) = offset.addingReportingOverflow(UInt64(count))
    guard !overflow, end <= size else {
      throw .outOfBounds(source: path, offset: offset, count: UInt64(count), size: size)
    }
  }

  /// Exactly `count` bytes at `offset`.
  public func read(at offset: UInt64, count: Int) throws -> [UInt8] {
    try readBytes(at: offset, count: count)
  }

  /// Exactly `count` bytes at `offset` (typed-throwing form of `read`).
  public func readBytes(at offset: UInt64, count: Int) throws(BinaryReadError) -> [UInt8] {
    try check(offset, count)
    guard count > 0, let base else { return [] }
    let bytes = [UInt8](UnsafeRawBufferPointer(start: base + Int(offset), count: count))
    try checkIntact()
    return bytes
  }

  /// A little-endian integer at `offset` without copying (the hot path of page-table walks; inlinable
  /// so it is specialised in the caller).
  @inlinable
  public func loadLE<T: FixedWidthInteger>(_ type: T.Type, at offset: UInt64) throws(BinaryReadError) -> T {
    let width = UInt64(MemoryLayout<T>.size)
    guard offset <= size, width <= size &- offset, let base else {  // size - offset cannot underflow here
      throw .outOfBounds(source: path, offset: offset, count: width, size: size)
    }
    let value = T(littleEndian: base.loadUnaligned(fromByteOffset: Int(offset), as: T.self))
    // One relaxed load on the hot path; the slot is looked at only once some mapping lost pages.
    if mappingFaultCount.load(ordering: .relaxed) != 0 { try checkIntact() }
    return value
  }

  /// Copies `count` bytes at `offset` to `destination` (assembling reads that span several runs of
  /// an image without intermediate arrays).
  public func copy(at offset: UInt64, count: Int, into destination: UnsafeMutableRawPointer) throws(BinaryReadError) {
    try check(offset, count)
    guard count > 0, let base else { return }
    destination.copyMemory(from: base + Int(offset), byteCount: count)
    try checkIntact()
  }

  /// Calls `body` with the bytes `[offset, offset+count)` in place; the buffer must not escape.
  public func withBytes<R>(
    at offset: UInt64, count: Int, _ body: (UnsafeRawBufferPointer) throws -> R
  ) throws -> R {
    try check(offset, count)
    guard count > 0, let base else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
    let result = try body(UnsafeRawBufferPointer(start: base + Int(offset), count: count))
    try checkIntact()
    return result
  }

  /// Tells the kernel the mapping will be read sequentially (large scans).
  public func adviseSequential() {
    #if canImport(Glibc)
      if let base { madvise(UnsafeMutableRawPointer(mutating: base), mappedLength, MADV_SEQUENTIAL) }
    #endif
  }
}
