// Kernel variables the crash-dump header names (DUMP_HEADER64: KdDebuggerDataBlock,
// PsLoadedModuleList, PsActiveProcessHead, PfnDataBase), resolved through the kernel's profile — a
// symbol file, or the locators' exports and code patterns when none matches. A value that cannot be
// resolved stays nil with a warning naming the variable and the reason; the writer then leaves the
// field 0 and says so, instead of pretending it is known.

import BinaryReading
import Symbols
import WindowsKernel

/// The header's kernel addresses, each with why it is absent when it is.
struct KernelSymbolAddresses {
  /// Address of the KDDEBUGGER_DATA64 block (the variable KdDebuggerDataBlock).
  var kdDebuggerDataBlock: UInt64?
  /// Address of the PsLoadedModuleList head.
  var psLoadedModuleList: UInt64?
  /// Address of the PsActiveProcessHead head.
  var psActiveProcessHead: UInt64?
  /// The PFN database's address: the value stored in MmPfnDatabase.
  var pfnDataBase: UInt64?
  /// One line per header field left 0: the field, the variable and why.
  var warnings: [String] = []

  /// Resolves the four values from `kernel`'s profile; `profileError` says why no profile was
  /// available at all (every field is then a warning).
  static func resolve(kernel: Kernel?, profileError: String? = nil) -> KernelSymbolAddresses {
    var result = KernelSymbolAddresses()
    guard let kernel else {
      let why = profileError ?? "no kernel profile"
      result.warnings = ["KdDebuggerDataBlock", "PsLoadedModuleList", "PsActiveProcessHead", "PfnDataBase"].map {
        "\($0) left 0: \(why)"
      }
      return result
    }
    result.kdDebuggerDataBlock = result.variable(
      "KdDebuggerDataBlock", in: kernel,
      note: kernel.profile is LocatedProfile
        ? " (without a symbol file only a plaintext block is found; Windows 8 and later keep it encoded)" : "")
    result.psLoadedModuleList = result.listHead("PsLoadedModuleList", in: kernel)
    result.psActiveProcessHead = result.listHead("PsActiveProcessHead", in: kernel)
    result.pfnDataBase = result.pfnDatabase(in: kernel)
    return result
  }

  /// The address of `symbol`, or nil with a warning (`note` appended).
  private mutating func variable(_ symbol: String, in kernel: Kernel, note: String = "") -> UInt64? {
    do {
      return try kernel.address(of: symbol)
    } catch {
      warnings.append("\(symbol) left 0: \(error)\(note)")
      return nil
    }
  }

  /// The address of the LIST_ENTRY head `symbol`, checked to hold a readable kernel Flink.
  private mutating func listHead(_ symbol: String, in kernel: Kernel) -> UInt64? {
    guard let address = variable(symbol, in: kernel) else { return nil }
    do {
      let flink = try kernel.readPointer(address)
      guard kernel.isKernelAddress(flink) else {
        warnings.append(
          "\(symbol) left 0: its Flink at \(Hex.format(address)) is \(Hex.format(flink)), not a kernel address")
        return nil
      }
      return address
    } catch {
      warnings.append("\(symbol) left 0: head at \(Hex.format(address)) unreadable: \(error)")
      return nil
    }
  }

  /// The value of MmPfnDatabase: a kernel address (the PFN array) on every x64 Windows. The
  /// variable's address comes from the profile, else from a plaintext debugger data block.
  private mutating func pfnDatabase(in kernel: Kernel) -> UInt64? {
    let field = "PfnDataBase (MmPfnDatabase)"
    let address: UInt64
    do { address = try kernel.address(of: "MmPfnDatabase") } catch {
      guard let block = kdDebuggerDataBlock,
        DebuggerDataBlock.rejection(at: block, kernelBase: kernel.image.base, in: kernel) == nil,
        let variable = try? kernel.readPointer(block &+ DebuggerDataBlock.mmPfnDatabaseOffset),
        kernel.isKernelAddress(variable)
      else {
        warnings.append("\(field) left 0: \(error), and no plaintext KdDebuggerDataBlock names it")
        return nil
      }
      address = variable
    }
    do {
      let value = try kernel.readPointer(address)
      guard kernel.isKernelAddress(value) else {
        warnings.append(
          "\(field) left 0: MmPfnDatabase at \(Hex.format(address)) holds \(Hex.format(value)), not a kernel address")
        return nil
      }
      return value
    } catch {
      warnings.append("\(field) left 0: MmPfnDatabase at \(Hex.format(address)) unreadable: \(error)")
      return nil
    }
  }
}
