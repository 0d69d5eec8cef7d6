// What a WindowsImageBuilder planted, for tests to compare readers' answers with. Everything here
// was chosen by the builder (not read back), and the image it describes is synthetic.

/// The facts of a synthetic Windows image.
public struct WindowsImageTruth: Sendable, Codable, Equatable {
  /// A PDB identity: file name, GUID in symbol-store order, age.
  public struct PDB: Sendable, Codable, Equatable {
    public var name: String
    public var guid: String
    public var age: UInt32
    public init(name: String, guid: String, age: UInt32) {
      self.name = name
      self.guid = guid
      self.age = age
    }
  }
  /// A kernel section as mapped: name, virtual address, virtual size.
  public struct Section: Sendable, Codable, Equatable {
    public var name: String
    public var address: UInt64
    public var size: UInt64
    public init(name: String, address: UInt64, size: UInt64) {
      self.name = name
      self.address = address
      self.size = size
    }
  }
  /// A PE module mapped in kernel space.
  public struct Module: Sendable, Codable, Equatable {
    public var name: String
    public var base: UInt64
    public var size: UInt64
    public var pdb: PDB?
    public init(name: String, base: UInt64, size: UInt64, pdb: PDB?) {
      self.name = name
      self.base = base
      self.size = size
      self.pdb = pdb
    }
  }
  /// A process: its address space and, when an EPROCESS was planted, its id and EPROCESS address.
  public struct Process: Sendable, Codable, Equatable {
    public var name: String
    public var dtb: UInt64
    public var pid: UInt64?
    public var eprocess: UInt64?
    public init(name: String, dtb: UInt64, pid: UInt64? = nil, eprocess: UInt64? = nil) {
      self.name = name
      self.dtb = dtb
      self.pid = pid
      self.eprocess = eprocess
    }
  }
  /// A planted kernel callback: family id (DESIGN.md), head variable, slot or list position, routine,
  /// the module whose image holds the routine (nil: memory outside every module), the record holding
  /// the registration, and the anomaly it was planted as, if any.
  public struct Callback: Sendable, Codable, Equatable {
    public var family: String
    public var headSymbol: String
    public var index: Int
    public var routine: UInt64
    public var owner: String?
    public var object: UInt64
    public var anomaly: String?
    public init(
      family: String, headSymbol: String, index: Int, routine: UInt64, owner: String?, object: UInt64,
      anomaly: String? = nil
    ) {
      self.family = family
      self.headSymbol = headSymbol
      self.index = index
      self.routine = routine
      self.owner = owner
      self.object = object
      self.anomaly = anomaly
    }
  }
  /// Something planted to mislead a naive scanner.
  public struct Decoy: Sendable, Codable, Equatable {
    /// `driver-pe` (mapped non-kernel PE), `unmapped-pe` (PE only in physical memory), `random-page`.
    public var kind: String
    public var physicalAddress: UInt64
    public var virtualAddress: UInt64?
    public init(kind: String, physicalAddress: UInt64, virtualAddress: UInt64?) {
      self.kind = kind
      self.physicalAddress = physicalAddress
      self.virtualAddress = virtualAddress
    }
  }

  /// Always true: the image is made up.
  public var synthetic = true
  public var seed: UInt64
  public var memorySize: UInt64
  /// `x64-4level`.
  public var pagingMode: String
  public var dtb: UInt64
  public var selfReferenceIndex: Int
  /// Virtual address of the self-mapped page tables (PTE_BASE).
  public var pageTableBase: UInt64
  public var kernelBase: UInt64
  public var kernelPhysicalBase: UInt64
  /// SizeOfImage of the kernel.
  public var kernelSize: UInt64
  /// Kernel bytes mapped with 2 MiB pages (the rest uses 4 KiB pages).
  public var largePageBytes: UInt64
  public var pdb: PDB
  /// `10.0.19041.1415`.
  public var version: String
  public var majorVersion: UInt32
  public var minorVersion: UInt32
  public var buildNumber: UInt32
  public var kuserSharedData: UInt64
  public var lowStub: UInt64
  /// PROCESSOR_START_BLOCK.LmTarget as planted (an address inside the kernel).
  public var lowStubLmTarget: UInt64
  public var sections: [Section]
  /// Kernel exports → virtual address.
  public var exports: [String: UInt64]
  public var modules: [Module]
  public var processes: [Process]
  public var decoys: [Decoy]
  /// Callbacks planted by a scenario (the demo's), in planting order.
  public var callbacks: [Callback] = []
}
