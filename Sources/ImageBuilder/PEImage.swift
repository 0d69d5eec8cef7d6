// What PEBuilder.build() produces: the image in memory layout (as a loader maps it) and in file
// layout (as on disk), with the RVAs of everything placed, for tests and the scenario truth.

/// A synthesised PE image in both layouts, with the facts of its layout.
public struct PEImage: Sendable {
  /// A section as placed.
  public struct SectionInfo: Sendable, Hashable, Codable {
    public let name: String
    public let virtualAddress: UInt32
    public let virtualSize: UInt32
    public let pointerToRawData: UInt32
    public let sizeOfRawData: UInt32
    public let characteristics: UInt32
  }

  /// The image as mapped: `sizeOfImage` bytes, section data at their RVAs.
  public let memoryLayout: [UInt8]
  /// The image as a file: headers then section data at their file offsets.
  public let fileLayout: [UInt8]
  public let imageBase: UInt64
  public let sizeOfImage: UInt32
  public let sizeOfHeaders: UInt32
  public let entryPointRVA: UInt32
  public let sections: [SectionInfo]
  /// Named exports → RVA (forwarders → RVA of their string).
  public let exportRVAs: [String: UInt32]
  /// Named exports → ordinal.
  public let exportOrdinals: [String: UInt32]
  /// Forwarded exports → forwarder string.
  public let forwarders: [String: String]
  /// Data directories written: index (0 export, 2 resource, 3 exception, 6 debug) → (RVA, size).
  public let dataDirectories: [Int: (rva: UInt32, size: UInt32)]
  /// The CodeView record written, if any.
  public let codeView: PEBuilder.CodeView?
  /// The PE checksum stored in the optional header.
  public let checksum: UInt32

  /// The RVA of `offset` bytes into section `name`, if that section exists.
  public func rva(section name: String, offset: Int = 0) -> UInt32? {
    guard let section = sections.first(where: { $0.name == name }), let delta = UInt32(exactly: offset) else {
      return nil
    }
    return section.virtualAddress + delta
  }
}
