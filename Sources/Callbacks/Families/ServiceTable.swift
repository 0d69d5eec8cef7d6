// The ssdt family: the kernel's system service table, the routine behind every Nt* system call.
// KeServiceDescriptorTable[0] is a KSERVICE_TABLE_DESCRIPTOR {Base, Count, Limit, Number} (WRK
// ke.h; not in the public PDB); Base is KiServiceTable. An x64 entry is a 32-bit value whose upper
// 28 bits are the routine's signed offset from Base and whose low 4 bits count its stack arguments;
// an x86 entry is the routine's address, and Number points to KiArgumentTable (argument bytes).
// Services are named by number from ntoskrnl's exported Zw stubs (`mov eax, number`), which stays
// right when the entry is hooked, else by the routine's address (exports, then the symbol file).
// Every routine belongs in ntoskrnl: one elsewhere is a hook (outside-expected-module).

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// KiServiceTable through KeServiceDescriptorTable.
  public static let serviceTable = FamilyDescriptor(
    id: "ssdt", title: "System service table (KiServiceTable)",
    registration: "KiServiceTable is built into ntoskrnl (hooks overwrite its entries)",
    heads: [
      FamilyHead("KeServiceDescriptorTable", .code(exports: ["KeAddSystemServiceTable"], shape: .table))
    ],
    symbols: ["KiServiceTable", "KiServiceLimit", "KeAddSystemServiceTable"],
    listing: .deviations,
    reader: ServiceTableReader())
}

/// Reads KeServiceDescriptorTable[0] and its service table.
public struct ServiceTableReader: CallbackFamily {
  public var ids: [String] { ["ssdt"] }
  public init() {}

  /// More services than any kernel has had (about 500 on Windows 11): a larger Limit is not a table.
  static let maximumServices: UInt64 = 4096

  public func collect(_ c: CallbackContext) -> [FamilyResult] {
    let id = "ssdt"
    let table: Table
    do throws(WindowsKernelError) { table = try Table(c) } catch {
      return [FamilyResult(family: id, notLocated: error.description)]
    }
    var result = FamilyResult(family: id)
    if let warning = table.limitWarning { result.warnings.append(warning) }
    let names = ServiceNames(c)
    for number in 0..<Int(table.limit) {
      let (raw, routine, arguments) = table.entries[number]
      let named = names.name(number: number, routine: routine, kernel: c.kernel)
      var details: [(String, DetailValue)] = [
        ("service", named.map { .string($0.name) } ?? .null), ("nameFrom", named.map { .string($0.source) } ?? .null),
      ]
      if let arguments { details.append((c.pointerSize == 8 ? "stackArguments" : "argumentBytes", .int(arguments))) }
      var entry = CallbackEntry(
        family: id, head: table.descriptor, headSymbol: "KeServiceDescriptorTable", index: number, rawValue: raw,
        routine: routine, details: details, provenance: table.provenance)
      entry.expectedOwners = IrpDispatchReader.kernelImageNames
      result.entries.append(entry)
    }
    return [result]
  }

  /// The descriptor and its decoded entries, checked to be a service table of this kernel.
  struct Table {
    let descriptor: UInt64
    let provenance: Provenance
    let limit: UInt64
    /// Per service: the raw entry, the routine, stack arguments (x64) or argument bytes (x86).
    let entries: [(raw: UInt64, routine: UInt64, arguments: Int64?)]
    let limitWarning: String?

    init(_ c: CallbackContext) throws(WindowsKernelError) {
      let head = try c.head("KeServiceDescriptorTable")
      descriptor = head.address
      provenance = head.provenance
      let layout = c.layouts.serviceTableDescriptor
      let base = try c.kernel.readPointer(descriptor &+ (try layout["Base"]))
      let limitField = descriptor &+ (try layout["Limit"])
      limit = try c.kernel.readUnsigned(limitField, width: 4)
      guard c.kernel.image.contains(base) else {
        throw .implausible(
          address: descriptor, structure: "KSERVICE_TABLE_DESCRIPTOR.Base",
          detail: base == 0 ? "null: the table was never filled in" : "\(Hex.format(base)) is not inside ntoskrnl")
      }
      guard limit > 0, limit <= ServiceTableReader.maximumServices else {
        throw .implausible(
          address: limitField, structure: "KSERVICE_TABLE_DESCRIPTOR.Limit",
          detail: "\(limit) services is not a service table")
      }
      // KiServiceTable and KiServiceLimit, when the profile has them, must agree with the descriptor.
      var warning: String?
      if let symbol = try? c.kernel.address(of: "KiServiceTable"), symbol != base {
        warning = "ssdt: KeServiceDescriptorTable.Base \(Hex.format(base)) is not KiServiceTable \(Hex.format(symbol))"
      }
      if let address = try? c.kernel.address(of: "KiServiceLimit"),
        let count = try? c.kernel.readUnsigned(address, width: 4), count != limit
      {
        warning = "ssdt: KeServiceDescriptorTable.Limit \(limit) is not KiServiceLimit \(count)"
      }
      limitWarning = warning
      let number = try c.kernel.readPointer(descriptor &+ (try layout["Number"]))
      let width = 4  // x64: 32-bit offsets; x86: 32-bit addresses
      let bytes: [UInt8]
      do { bytes = try c.kernel.space.read(base, count: Int(limit) * width) } catch {
        throw .unreadableField(
          structName: "KiServiceTable", field: "[0..<\(limit)]", address: base, reason: "\(error)")
      }
      var decoded: [(raw: UInt64, routine: UInt64, arguments: Int64?)] = []
      decoded.reserveCapacity(Int(limit))
      var insideKernel = 0
      let argumentBytes = c.pointerSize == 4 && number != 0 ? try? c.kernel.space.read(number, count: Int(limit)) : nil
      for index in 0..<Int(limit) {
        let at = index * width
        let raw =
          UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        let routine: UInt64
        let arguments: Int64?
        if c.pointerSize == 8 {
          let offset = Int64(Int32(bitPattern: raw) >> 4)
          routine = base &+ UInt64(bitPattern: offset)
          arguments = Int64(raw & 0xF)
        } else {
          routine = UInt64(raw)
          arguments = argumentBytes.flatMap { index < $0.count ? Int64($0[index]) : nil }
        }
        if c.kernel.image.contains(routine) { insideKernel += 1 }
        decoded.append((UInt64(raw), routine, arguments))
      }
      // A hooked entry points elsewhere; a table whose entries mostly leave ntoskrnl is not one, nor
      // is one whose entries mostly repeat (an unfilled table decodes to its own address throughout).
      guard insideKernel * 2 > Int(limit) else {
        throw .implausible(
          address: base, structure: "KiServiceTable",
          detail: "only \(insideKernel) of \(limit) entries decode to routines inside ntoskrnl")
      }
      let distinct = Set(decoded.map(\.routine)).count
      guard distinct * 2 > Int(limit) else {
        throw .implausible(
          address: base, structure: "KiServiceTable",
          detail: "its \(limit) entries decode to only \(distinct) distinct routines")
      }
      entries = decoded
    }
  }
}

/// Names of system services: by number from the Zw stubs, else by the routine's address.
struct ServiceNames {
  /// Service number → Nt name, from the exported Zw stubs.
  let byNumber: [Int: String]
  /// Routine RVA → exported Nt name.
  let exportByRVA: [UInt64: String]
  /// Routine RVA → Nt name from the symbol file (empty for bundled and located profiles).
  let symbolByRVA: [UInt64: String]

  init(_ c: CallbackContext) {
    var numbers: [Int: String] = [:]
    var byRVA: [UInt64: String] = [:]
    if let exports = try? KernelExports(c.kernel) {
      for (name, rva) in exports.rvaByName where name.hasPrefix("Zw") {
        guard let code = try? c.kernel.space.read(c.kernel.image.base &+ rva, count: 32),
          let number = SystemServiceStub.number(code, x64: c.pointerSize == 8)
        else { continue }
        numbers[number] = "Nt" + name.dropFirst(2)
      }
      for (rva, names) in exports.namesByRVA {
        if let nt = names.first(where: { $0.hasPrefix("Nt") }) { byRVA[rva] = nt }
      }
    }
    byNumber = numbers
    exportByRVA = byRVA
    var symbols: [UInt64: String] = [:]
    for name in c.kernel.profile.symbolNames where name.hasPrefix("Nt") {
      if let info = c.kernel.profile.symbol(name), symbols[info.rva] == nil { symbols[info.rva] = name }
    }
    symbolByRVA = symbols
  }

  /// The service's name and where it came from (`zw-stub`, `export`, `symbol`).
  func name(number: Int, routine: UInt64, kernel: Kernel) -> (name: String, source: String)? {
    if let name = byNumber[number] { return (name, "zw-stub") }
    guard kernel.image.contains(routine) else { return nil }
    let rva = routine &- kernel.image.base
    if let name = exportByRVA[rva] { return (name, "export") }
    if let name = symbolByRVA[rva] { return (name, "symbol") }
    return nil
  }
}

/// The system-call stubs ntoskrnl exports as Zw*.
public enum SystemServiceStub {
  /// The number a Zw stub loads into eax before entering the dispatcher: x64 `mov eax, imm32`
  /// followed by `jmp` (KiServiceInternal) within the stub's first 32 bytes; x86 `mov eax, imm32` at
  /// the start followed by `lea edx, [esp+4]` or `mov edx, …`. Numbers above 0xFFF are not services.
  public static func number(_ stub: [UInt8], x64: Bool) -> Int? {
    func imm32(_ at: Int) -> Int? {
      guard at + 4 < stub.count else { return nil }
      let value = Int(stub[at]) | Int(stub[at + 1]) << 8 | Int(stub[at + 2]) << 16 | Int(stub[at + 3]) << 24
      return value <= 0xFFF ? value : nil
    }
    if x64 {
      var at = 0
      while at + 5 < stub.count {
        if stub[at] == 0xB8, stub[at + 5] == 0xE9, let value = imm32(at + 1) { return value }
        at += 1
      }
      return nil
    }
    guard stub.count > 6, stub[0] == 0xB8, stub[5] == 0x8D || stub[5] == 0xBA else { return nil }
    return imm32(1)
  }
}
