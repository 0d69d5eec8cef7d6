// A file that shrinks while it is mapped (truncated by another process, a copy still being
// written) makes every access to a page past its new end raise SIGBUS, which would kill the
// process. MappingGuard installs one SIGBUS handler that, for a fault inside a registered
// mapping, maps a zero page over the faulting one and counts the fault; MappedFile checks that
// count after each read and throws "the file shrank" instead. Faults anywhere else keep the
// default action (the handler restores it and the access faults again).

import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Faults absorbed so far, over every mapping (read on the hot path: one relaxed load).
@usableFromInline let mappingFaultCount = Atomic<Int>(0)

/// The registry of guarded mappings: per slot start, end and faults, read by the signal handler.
enum MappingGuard {
  static let capacity = 256
  /// 3 words per slot: start address, end address (0: free), faults in the slot.
  nonisolated(unsafe) static let table: UnsafeMutablePointer<UInt> = {
    let t = UnsafeMutablePointer<UInt>.allocate(capacity: 3 * capacity)
    t.initialize(repeating: 0, count: 3 * capacity)
    return t
  }()
  /// Each used slot's file and size when opened (never read by the handler).
  static let files = Mutex<[Int: (path: String, size: UInt64)]>([:])
  static let installed: Bool = {
    _ = table  // initialised before the handler can run
    var action = sigaction()
    #if canImport(Glibc)
      action.__sigaction_handler.sa_sigaction = { _, info, _ in MappingGuard.handle(info) }
    #else
      action.__sigaction_u.__sa_sigaction = { _, info, _ in MappingGuard.handle(info) }
    #endif
    action.sa_flags = SA_SIGINFO
    return sigaction(SIGBUS, &action, nil) == 0
  }()

  /// Registers `[start, start + length)`; the slot, or nil when the table is full (then unguarded).
  static func register(start: UnsafeRawPointer, length: Int, path: String) -> Int? {
    guard installed else { return nil }
    let s = UInt(bitPattern: start)
    return files.withLock { files in
      for slot in 0..<capacity where table[3 * slot + 1] == 0 {
        table[3 * slot] = s
        table[3 * slot + 2] = 0
        table[3 * slot + 1] = s &+ UInt(length)  // a mapping never wraps the address space
        files[slot] = (path, UInt64(length))
        return slot
      }
      return nil
    }
  }

  static func unregister(_ slot: Int) {
    files.withLock { files in
      // A file that shrank stays listed: a report built from its zero pages must not be written.
      if faults(slot) == 0 { files[slot] = nil } else { files[-1 - slot] = files[slot] }
      table[3 * slot + 1] = 0
      table[3 * slot] = 0
    }
  }

  /// Faults absorbed in `slot`'s mapping.
  static func faults(_ slot: Int) -> UInt { table[3 * slot + 2] }

  /// The SIGBUS handler: only async-signal-safe work (a table scan, mmap, an atomic add).
  static func handle(_ info: UnsafeMutablePointer<siginfo_t>?) {
    guard let info else { return }
    #if canImport(Glibc)
      let address = UInt(bitPattern: info.pointee._sifields._sigfault.si_addr)
    #else
      let address = UInt(bitPattern: info.pointee.si_addr)
    #endif
    for slot in 0..<capacity {
      let start = table[3 * slot]
      let end = table[3 * slot + 1]
      guard end != 0, address >= start, address < end else { continue }
      let page = address & ~UInt(0xFFF)
      let zero = mmap(
        UnsafeMutableRawPointer(bitPattern: page), 0x1000, PROT_READ, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0)
      guard zero != MAP_FAILED else { break }
      table[3 * slot + 2] &+= 1
      mappingFaultCount.add(1, ordering: .relaxed)
      return
    }
    signal(SIGBUS, SIG_DFL)
  }
}

extension MappedFile {
  /// Whether any guarded mapping has lost pages (a file shrank under it) since the process started.
  public static var anyFileShrank: Bool { mappingFaultCount.load(ordering: .relaxed) != 0 }

  /// The error for the first file that shrank while mapped, if one did.
  public static func shrinkError() -> BinaryReadError? {
    guard anyFileShrank else { return nil }
    let shrunk = MappingGuard.files.withLock { files in
      files.filter { $0.key < 0 || MappingGuard.faults($0.key) != 0 }.values.first
    }
    guard let shrunk else { return nil }
    return shrankError(path: shrunk.path, size: shrunk.size)
  }

  /// Whether this file shrank while mapped: reads of the lost pages gave zeros, not its bytes.
  public var hasShrunk: Bool { guardSlot.map { MappingGuard.faults($0) != 0 } ?? false }

  /// The error saying this file shrank (with its size now and when opened).
  public var shrankError: BinaryReadError { Self.shrankError(path: path, size: size) }

  static func shrankError(path: String, size: UInt64) -> BinaryReadError {
    var st = stat()
    let now = stat(path, &st) == 0 ? "\(st.st_size) bytes now" : "gone now"
    return .io(path: path, message: "the file shrank while being read (\(size) bytes when opened, \(now))")
  }

  /// Throws when a read of this file touched a page the file no longer has.
  @usableFromInline
  func checkIntact() throws(BinaryReadError) {
    guard mappingFaultCount.load(ordering: .relaxed) != 0, hasShrunk else { return }
    throw shrankError
  }
}
