// The object manager's namespace: the root directory, its 37-bucket hash chains, object headers
// (TypeIndex encoded with ObHeaderCookie and the header address on Windows 10+), the optional
// name-info header found through InfoMask, and type objects through ObTypeIndexTable.

import AddressSpace
import BinaryReading

/// Reads objects and directories of the object manager.
public final class ObjectManager: Sendable {
  public let kernel: Kernel
  /// Address of the root directory object (`\`).
  public let root: UInt64
  private let bodyOffset, typeIndexOffset, infoMaskOffset, nameInfoNameOffset, nameInfoSize, creatorInfoSize: UInt64
  private let entryChain, entryObject: UInt64
  private let bucketCount: Int
  private let cookie: UInt8?
  private let infoMaskTable: [UInt8]?
  private let typeNames: [UInt8: String]

  /// Hash buckets per directory (OBJECT_DIRECTORY.HashBuckets has 37 on every build).
  public static let defaultBucketCount = 37

  public convenience init(kernel: Kernel) throws(WindowsKernelError) {
    try self.init(kernel: kernel, typeNames: nil)
  }

  /// With `typeNames` already read from the same ObTypeIndexTable (nil: read them now).
  init(kernel: Kernel, typeNames known: [UInt8: String]?) throws(WindowsKernelError) {
    self.kernel = kernel
    root = try kernel.readPointerVariable("ObpRootDirectoryObject")
    bodyOffset = try kernel.offset("_OBJECT_HEADER", "Body")
    typeIndexOffset = try kernel.offset("_OBJECT_HEADER", "TypeIndex")
    infoMaskOffset = try kernel.offset("_OBJECT_HEADER", "InfoMask")
    nameInfoNameOffset = try kernel.offset("_OBJECT_HEADER_NAME_INFO", "Name")
    nameInfoSize = try kernel.size(of: "_OBJECT_HEADER_NAME_INFO")
    // Without the type in the profile: the public layout's size for this pointer size (LIST_ENTRY
    // TypeList, PVOID CreatorUniqueProcess, USHORT ×2, and on x64 a ULONG pad) — not the x64 size everywhere.
    creatorInfoSize = (try? kernel.size(of: "_OBJECT_HEADER_CREATOR_INFO")) ?? (kernel.pointerSize == 8 ? 0x20 : 0x10)
    entryChain = try kernel.offset("_OBJECT_DIRECTORY_ENTRY", "ChainLink")
    entryObject = try kernel.offset("_OBJECT_DIRECTORY_ENTRY", "Object")
    if case .array(_, let count)? = kernel.profile.field("_OBJECT_DIRECTORY", "HashBuckets")?.type, count > 0,
      count <= 64
    {
      bucketCount = count
    } else {
      bucketCount = Self.defaultBucketCount
    }
    if kernel.hasSymbol("ObHeaderCookie"), let address = try? kernel.address(of: "ObHeaderCookie"),
      let byte = try? kernel.space.readUInt8(address)
    {
      cookie = byte
    } else {
      cookie = nil
    }
    if let address = try? kernel.address(of: "ObpInfoMaskToOffset"), let table = try? kernel.read(address, count: 256) {
      infoMaskTable = table
    } else {
      infoMaskTable = nil
    }
    typeNames = known ?? Self.readTypeNames(kernel)
  }

  /// Type names by index, from ObTypeIndexTable (stops at the first null slot; at most 256).
  private static func readTypeNames(_ kernel: Kernel) -> [UInt8: String] {
    guard let table = try? kernel.address(of: "ObTypeIndexTable"),
      let nameOffset = try? kernel.offset("_OBJECT_TYPE", "Name")
    else { return [:] }
    var names: [UInt8: String] = [:]
    let size = UInt64(kernel.pointerSize)
    for index in 2..<256 {
      guard let type = try? kernel.readPointer(table &+ UInt64(index) &* size), type != 0 else {
        if index > 2 { break } else { continue }
      }
      if let name = try? kernel.readUnicodeString(type &+ nameOffset) { names[UInt8(index)] = name }
    }
    return names
  }

  /// All type names known (index → name).
  public var types: [UInt8: String] { typeNames }

  /// Decodes the object whose body is at `address`.
  public func object(at address: UInt64) throws(WindowsKernelError) -> KernelObject {
    guard address >= bodyOffset else {
      throw .implausible(address: address, structure: "object", detail: "address below OBJECT_HEADER size")
    }
    let header = address - bodyOffset
    let raw = UInt8(truncatingIfNeeded: try kernel.readUnsigned(header &+ typeIndexOffset, width: 1))
    var index = raw
    if let cookie { index = raw ^ cookie ^ UInt8(truncatingIfNeeded: header >> 8) }
    let infoMask = UInt8(truncatingIfNeeded: try kernel.readUnsigned(header &+ infoMaskOffset, width: 1))
    var name: String?
    if infoMask & 0x2 != 0 {
      let offset: UInt64
      if let table = infoMaskTable, let byte = table.dropFirst(Int(infoMask & 0x3)).first, byte != 0 {
        offset = UInt64(byte)
      } else {
        offset = nameInfoSize &+ (infoMask & 0x1 != 0 ? creatorInfoSize : 0)
      }
      name = try? kernel.readUnicodeString(header &- offset &+ nameInfoNameOffset)
    }
    return KernelObject(address: address, header: header, typeIndex: index, typeName: typeNames[index], name: name)
  }

  /// The objects of a directory, bucket by bucket (each chain bounded and cycle-safe).
  public func entries(ofDirectory directory: UInt64) -> (objects: [KernelObject], warnings: [String]) {
    var objects: [KernelObject] = []
    var warnings: [String] = []
    let size = UInt64(kernel.pointerSize)
    for bucket in 0..<bucketCount {
      let slot = directory &+ UInt64(bucket) &* size
      let first: UInt64
      do { first = try kernel.readPointer(slot) } catch {
        warnings.append("directory \(Hex.format(directory)) bucket \(bucket): \(error)")
        continue
      }
      let chain = kernel.space.chain(first: first, nextOffset: entryChain, bound: 10_000)
      // A bad object does not end the chain: only an unreadable ChainLink does.
      for entry in chain.nodes {
        do {
          let body = try kernel.readPointer(entry &+ entryObject)
          objects.append(try object(at: body))
        } catch {
          warnings.append("directory entry at \(Hex.format(entry)): \(error)")
        }
      }
      switch chain.stop {
      case .nullTerminated: break
      case .cycle, .bound:
        warnings.append("directory \(Hex.format(directory)) bucket \(bucket): chain \(chain.stop)")
      case .readFailed(_, let error):
        let entry = chain.nodes.last ?? first
        warnings.append("directory entry at \(Hex.format(entry)): ChainLink unreadable: \(error)")
      }
    }
    return (objects, warnings)
  }

  /// Resolves a path such as `\Callback` or `\Driver\Null` (case-insensitive) from the root.
  public func lookup(_ path: String) throws(WindowsKernelError) -> KernelObject {
    var current = try object(at: root)
    for component in path.split(separator: "\\") where !component.isEmpty {
      guard current.typeName == "Directory" || current.address == root else {
        throw .implausible(
          address: current.address, structure: "object", detail: "\(current.name ?? "?") is not a directory")
      }
      let (children, _) = entries(ofDirectory: current.address)
      guard let next = children.first(where: { $0.name?.lowercased() == component.lowercased() }) else {
        throw .implausible(address: current.address, structure: "directory", detail: "no entry named \(component)")
      }
      current = next
    }
    return current
  }
}
