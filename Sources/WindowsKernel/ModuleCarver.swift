// Finds loader entries (`MmLd` pool blocks holding a KLDR_DATA_TABLE_ENTRY) that are no longer
// linked in PsLoadedModuleList: a driver that unlinked itself still has its entry in pool.

import AddressSpace
import BinaryReading
import MemoryImage

/// Carves `MmLd` pool blocks for loader entries.
public enum ModuleCarver {
  /// Pool tag of loader entries.
  public static let tag = "MmLd"

  /// Modules found in `MmLd` blocks, decoded from physical memory; `linked` bases are skipped.
  public static func carve(_ kernel: Kernel, hits: [PoolHit], excluding linked: Set<UInt64>) -> [LoadedModule] {
    guard let layout = try? ModuleList.Layout(kernel) else { return [] }
    let headerSize: UInt64 = kernel.pointerSize == 8 ? 16 : 8
    let memory = kernel.space.memory
    var found: [UInt64: LoadedModule] = [:]
    let needed = Int(max(layout.baseName, layout.fullName, layout.dllBase, layout.sizeOfImage)) + 16
    for hit in hits where hit.tag == tag {
      let entry = hit.header &+ headerSize  // the entry follows the pool header
      // The entry must fit in the block its header describes.
      guard hit.blockSize >= Int(headerSize) + needed, let bytes = try? memory.read(at: entry, count: needed) else {
        continue
      }
      let cursor = ByteCursor(bytes, origin: entry)
      let width = kernel.pointerSize
      guard let base = try? read(cursor, at: Int(layout.dllBase), width: width),
        let size = try? cursor.getLE(UInt32.self, at: Int(layout.sizeOfImage)),
        kernel.isKernelAddress(base), size > 0, size < 0x1000_0000, base & 0xfff == 0, !linked.contains(base)
      else { continue }
      let name = unicodeString(cursor, at: Int(layout.baseName), kernel: kernel)
      let path = unicodeString(cursor, at: Int(layout.fullName), kernel: kernel)
      guard !name.isEmpty || !path.isEmpty else { continue }
      found[base] = LoadedModule(
        name: name.isEmpty ? (path.split(separator: "\\").last.map(String.init) ?? "") : name, path: path,
        base: base, size: UInt64(size), entry: 0, origin: .carved)
    }
    return found.values.sorted { $0.base < $1.base }
  }

  private static func read(_ cursor: ByteCursor, at offset: Int, width: Int) throws -> UInt64 {
    width == 8 ? try cursor.getLE(UInt64.self, at: offset) : UInt64(try cursor.getLE(UInt32.self, at: offset))
  }

  /// A UNICODE_STRING whose header is in `cursor` and whose buffer is in kernel space.
  private static func unicodeString(_ cursor: ByteCursor, at offset: Int, kernel: Kernel) -> String {
    guard let length = try? cursor.getLE(UInt16.self, at: offset), length > 0, length % 2 == 0,
      let buffer = try? read(cursor, at: offset + (kernel.pointerSize == 8 ? 8 : 4), width: kernel.pointerSize),
      let bytes = try? kernel.read(buffer, count: Int(length))
    else { return "" }
    var units: [UInt16] = []
    for i in stride(from: 0, to: bytes.count - 1, by: 2) { units.append(UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8) }
    return String(decoding: units, as: UTF16.self)
  }
}
