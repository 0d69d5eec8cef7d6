// The result of translating one virtual address.

/// Where a virtual address lives in physical memory, and the rights of its page.
public struct Translation: Sendable, Hashable {
  /// The virtual address translated (for page enumeration: the page's first address).
  public let virtual: UInt64
  /// The physical address it maps to.
  public let physical: UInt64
  /// Size of the leaf page: 4 KiB, 2 MiB, 4 MiB or 1 GiB.
  public let pageSize: UInt64
  /// Writable at every level.
  public let writable: Bool
  /// User-accessible at every level.
  public let user: Bool
  /// Not marked no-execute at any level.
  public let executable: Bool
  /// Resolved through a Windows transition PTE (the page was not present, but its frame holds the data).
  public let inTransition: Bool

  public init(
    virtual: UInt64, physical: UInt64, pageSize: UInt64, writable: Bool, user: Bool, executable: Bool,
    inTransition: Bool = false
  ) {
    self.virtual = virtual
    self.physical = physical
    self.pageSize = pageSize
    self.writable = writable
    self.user = user
    self.executable = executable
    self.inTransition = inTransition
  }

  /// Physical address of the leaf page's first byte.
  public var pageBase: UInt64 { physical & ~(pageSize &- 1) }  // pageSize ≥ 4096
}
