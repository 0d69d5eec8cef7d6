// A process as its EPROCESS describes it.

/// One process from the active process list.
public struct Process: Sendable, Hashable {
  public var pid: UInt64
  public var ppid: UInt64
  /// EPROCESS.ImageFileName (at most 15 characters).
  public var name: String
  /// Address of the EPROCESS.
  public var eprocess: UInt64
  /// KPROCESS.DirectoryTableBase: the process's page-table root.
  public var dtb: UInt64
  /// User-mode PEB address (0 for System and minimal processes).
  public var peb: UInt64
  /// Creation and exit times as FILETIME (100 ns since 1601), 0 when unset.
  public var createTime: UInt64
  public var exitTime: UInt64

  public init(
    pid: UInt64, ppid: UInt64, name: String, eprocess: UInt64, dtb: UInt64, peb: UInt64, createTime: UInt64,
    exitTime: UInt64
  ) {
    self.pid = pid
    self.ppid = ppid
    self.name = name
    self.eprocess = eprocess
    self.dtb = dtb
    self.peb = peb
    self.createTime = createTime
    self.exitTime = exitTime
  }
}
