// The statically known memory operands that the code of a module's exports reaches (rip-relative
// loads, stores and lea's into the module), each with the chain export → calls → instruction: the
// candidates from which readers locate another module's private variables (fltmgr!FltGlobals,
// netio!gWfpGlobal) when its PDB is not on the symbol path.

import AddressSpace
import BinaryReading
import Disassembly
import PortableExecutable
import WindowsKernel

/// One operand into the module found in an export's code.
public struct ModuleCodeReference: Sendable, Hashable {
  /// The referenced address (inside the module).
  public let target: UInt64
  /// The operand is read (a load), not only its address taken.
  public let reads: Bool
  /// export at VA, each call/jmp hop, then the instruction and its target.
  public let chain: [String]
}

extension ModuleCodeReference {
  /// The references into `module` from the code of `exports` (x64), walking calls that stay in the
  /// module; `tried` collects why an export gave nothing (not exported, no operand, unreadable).
  public static func gather(
    _ c: CallbackContext, module: LoadedModule, exports names: [String], tried: inout [String]
  ) -> [ModuleCodeReference] {
    let source = VirtualByteSource(space: c.kernel.space, base: module.base, size: module.size, name: module.name)
    let exports: KernelExports
    do { exports = KernelExports(try PEImage(source: source, layout: .mapped).exports()) } catch {
      tried.append("\(module.name) export directory unreadable: \(error)")
      return []
    }
    let space = c.kernel.space
    let walker: CodeWalker
    do {
      walker = try CodeWalker(
        architecture: .x64, readPage: { try? space.read($0, count: 0x1000) }, mayEnter: { module.contains($0) })
    } catch {
      tried.append("disassembler: \(error)")
      return []
    }
    var found: [ModuleCodeReference] = []
    for name in names {
      guard let rva = exports.rvaByName[name], rva < module.size else {
        tried.append("\(name) not exported")
        continue
      }
      let walk = walker.walk(from: module.base &+ rva)
      let inside = walk.references.filter { module.contains($0.target) }
      if inside.isEmpty {
        tried.append("\(name): no operand in \(module.name) (\(walk.stops.first?.reason ?? "none"))")
      }
      for reference in inside {
        let chain =
          ["export \(name) at \(Hex.format(module.base &+ rva))"] + reference.hops.map(\.description)
          + [
            "\(Hex.format(reference.instruction.address)): \(reference.instruction.text) → \(Hex.format(reference.target))"
          ]
        found.append(ModuleCodeReference(target: reference.target, reads: reference.memory.reads, chain: chain))
      }
    }
    return found
  }
}
